package dev.ferry.api;

import java.util.List;

/**
 * {@code POST /api/migrations/storage}: move disks of a VM to another pool on its host
 * ({@code ferry migrate storage VM --to-pool POOL ...}). A running VM's disks are mirrored with
 * no downtime; a stopped VM's are copied offline.
 *
 * @param disks          disk ids to move; empty or null = every disk not already in {@code toPool}
 * @param format         {@code qcow2} or {@code raw}; null keeps each disk's format
 * @param bandwidthMibS  mirror speed cap in MiB/s; null = no cap
 * @param verify         {@code full} (default) or {@code none}
 * @param keepSource     keep the old image after a successful move
 * @param adaptiveRate   a running VM's mirror sets its own speed so that the guest's write latency
 *                       stays within 2x of what it was just before the mirror; null = on unless
 *                       {@code bandwidthMibS} fixes the speed; false = off (no cap unless
 *                       {@code bandwidthMibS}); true together with {@code bandwidthMibS} is refused
 */
public record StorageMigrationRequest(
    String vm, String toPool, List<String> disks, String format, Double bandwidthMibS, String verify, Boolean keepSource,
    Boolean adaptiveRate) {

  /** With the default rate: adaptive unless {@code bandwidthMibS} fixes it. */
  public StorageMigrationRequest(String vm, String toPool, List<String> disks, String format, Double bandwidthMibS,
      String verify, Boolean keepSource) {
    this(vm, toPool, disks, format, bandwidthMibS, verify, keepSource, null);
  }

  /** Whether a running VM's mirror follows the guest's write latency. */
  public boolean adaptive() {
    return bandwidthMibS == null && !Boolean.FALSE.equals(adaptiveRate);
  }
}
