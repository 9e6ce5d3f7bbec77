/**
 * How the agent speaks QMP to a QEMU it runs: {@link dev.ferry.agent.qemu.qmp.Qmp} sends typed
 * commands of {@code dev.ferry.qmp} with the agent's deadline and hands out the check-then-act
 * helpers live migration and storage moves share: block jobs, block nodes and bitmaps, NBD
 * exports, the NBD server, the migration state. No QMP command name is spelled out here.
 */
package dev.ferry.agent.qemu.qmp;
