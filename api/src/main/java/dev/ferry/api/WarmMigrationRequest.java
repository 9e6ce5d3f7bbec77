package dev.ferry.api;

/**
 * {@code POST /api/migrations/warm}: move a running VM's disks to another host while it runs, in
 * passes, then cut over with one shutdown and boot ({@code ferry migrate warm VM --to HOST ...}).
 * The target pulls the disks from the source QEMU's own NBD server (pass 0 whole, later passes
 * what a dirty bitmap recorded), both hosts hash their copies after the final pass, and the VM
 * starts on the target only when they agree.
 *
 * @param targetPool      pool on the target for every disk; null = each disk's own pool name
 * @param format          {@code qcow2} or {@code raw}; null keeps each disk's format
 * @param syncInterval    pause between passes, e.g. {@code 10s}; null = 5 s
 * @param cutover         {@code manual} (default: wait for {@code POST /api/migrations/ID/cutover}),
 *                        {@code auto} (once the predicted downtime is within {@code maxDowntimeMs}) or
 *                        {@code at:TIME} (an ISO-8601 instant, e.g. {@code at:2026-12-05T22:00:00Z})
 * @param maxDowntimeMs   the downtime {@code auto} waits for; null = 10000
 * @param shutdownTimeout how long the guest has to power off at the cutover, e.g. {@code 2m}; null = 120 s
 * @param bandwidthMibS   copy speed cap in MiB/s; null = no cap
 */
public record WarmMigrationRequest(String vm, String to, String targetPool, String format, String syncInterval,
    String cutover, Long maxDowntimeMs, String shutdownTimeout, Double bandwidthMibS) {}
