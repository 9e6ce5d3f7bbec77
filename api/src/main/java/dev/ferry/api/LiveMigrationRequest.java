package dev.ferry.api;

/**
 * {@code POST /api/migrations/live}: move a running VM to another host while it runs
 * ({@code ferry migrate live VM --to HOST ...}). Nulls take the defaults below.
 *
 * @param to            the target host
 * @param maxDowntimeMs QEMU's {@code downtime-limit}: the longest pause allowed at switchover (default 300)
 * @param bandwidthMibS cap on the migration stream in MiB/s; null = no cap (Ferry sets 10 GiB/s,
 *                      not QEMU's 128 MiB/s default)
 * @param postcopy      {@code never}, {@code auto} (default: switch to post-copy when pre-copy does
 *                      not converge) or {@code always} (switch after the first pass)
 * @param autoConverge  let QEMU throttle the guest's vCPUs when it dirties memory faster than it moves
 * @param multifd       number of parallel channels (QEMU multifd); null = one stream
 * @param compress      {@code none} (default), {@code xbzrle} or {@code zstd} (needs {@code multifd})
 * @param copyStorage   copy disks that are not on a pool shared with the target
 * @param targetPool    pool on the target the copied disks go to; null = a pool of the same name
 * @param timeoutMs     give up (roll back, the VM stays on the source) after this long; null = no limit
 */
public record LiveMigrationRequest(
    String vm,
    String to,
    Long maxDowntimeMs,
    Double bandwidthMibS,
    String postcopy,
    Boolean autoConverge,
    Integer multifd,
    String compress,
    Boolean copyStorage,
    String targetPool,
    Long timeoutMs) {}
