package dev.ferry.api;

/**
 * {@code POST /api/migrations/cold}: move a stopped VM and its disks to another host
 * ({@code ferry migrate cold VM --to HOST ...}). The target pulls the disks from the source with
 * Ferry's copier (only allocated data crosses the network), both hosts hash their copies, and the
 * VM is defined on the target and changes owner only when they agree.
 *
 * @param targetPool     pool on the target for every disk; null = each disk's own pool name
 * @param format         {@code qcow2} or {@code raw}; null keeps each disk's format
 * @param shutdown       a running VM is asked to power off (ACPI) first; without it a running VM is refused
 * @param shutdownTimeout how long the guest has to power off, e.g. {@code 2m}; null = 120 s
 * @param start          start the VM on the target once it is there
 * @param bandwidthMibS  copy speed cap in MiB/s; null = no cap
 * @param verify         {@code full} (default) or {@code none}
 * @param keepSource     keep the source's images after a successful move
 */
public record ColdMigrationRequest(String vm, String to, String targetPool, String format, Boolean shutdown,
    String shutdownTimeout, Boolean start, Double bandwidthMibS, String verify, Boolean keepSource) {}
