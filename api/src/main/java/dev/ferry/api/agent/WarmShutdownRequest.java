package dev.ferry.api.agent;

/**
 * {@code POST /agent/vms/NAME/warm-source/shutdown}: press the guest's ACPI power button (again
 * every few seconds) and wait up to {@code timeoutMs} for it to power off. QEMU stays (its disks,
 * bitmaps and exports with it); a guest that does not power off in time keeps running, never killed.
 */
public record WarmShutdownRequest(String migrationId, long timeoutMs) {}
