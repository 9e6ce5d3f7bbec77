/**
 * COLO fault tolerance (QEMU's coarse-grained lock-stepping): its status and the failover
 * command. COLO itself starts as a migration with the {@code x-colo} capability
 * ({@link dev.ferry.qmp.migration.MigrateSetCapabilities}); these are the commands that exist only
 * for it. The {@code x-} prefix is QEMU's: unstable interfaces, kept behind Ferry's per-binary
 * FT probe.
 */
package dev.ferry.qmp.colo;
