package dev.ferry.controller.migration;

import java.util.List;

/**
 * The downtime a warm cutover would have if it began now: the final pass (the bytes the guest
 * dirtied since the last pass began, at the pace of the last passes, each pass's fixed cost
 * included), the guest's power-off, the hashing of both copies, and the definition and start on
 * the target.
 *
 * <p>Defaults where nothing was measured yet, documented in docs/cluster-contract.md:
 * {@link #DEFAULT_SHUTDOWN_MS} for a VM never powered off by a warm cutover before,
 * {@link #HASH_BYTES_PER_S} for hashing (both hosts, one after the other, data only),
 * {@link #START_MS} for defining and starting QEMU on the target.
 *
 * @param dirtyBytes what the final pass would copy
 * @param lastPasses the last passes (at most {@link #WINDOW}), oldest first
 * @param shutdownMs the VM's power-off measured at an earlier warm cutover, null if never
 * @param dataBytes the disks' allocated data (what hashing reads on each host)
 */
record WarmPrediction(long dirtyBytes, List<Pass> lastPasses, Long shutdownMs, long dataBytes) {

  static final long DEFAULT_SHUTDOWN_MS = 5_000;
  static final double HASH_BYTES_PER_S = 256.0 * 1024 * 1024;
  static final long START_MS = 1_500;
  static final double DEFAULT_BYTES_PER_S = 50.0 * 1024 * 1024;
  static final int WINDOW = 3;

  /** One pass as measured: bytes sent and wall time from its start to its end. */
  record Pass(long bytes, long ms) {}

  WarmPrediction {
    lastPasses = List.copyOf(lastPasses.subList(Math.max(0, lastPasses.size() - WINDOW), lastPasses.size()));
  }

  /** Bytes per second of the last passes together (fixed costs included); null before any pass. */
  Double throughput() {
    long bytes = lastPasses.stream().mapToLong(Pass::bytes).sum();
    long ms = lastPasses.stream().mapToLong(Pass::ms).sum();
    return ms == 0 || bytes == 0 ? null : bytes * 1000.0 / ms;
  }

  /** The final pass: the dirty bytes at the last passes' pace, never below the quickest pass (its fixed cost). */
  long finalPassMs() {
    long floor = lastPasses.stream().mapToLong(Pass::ms).min().orElse(0);
    Double rate = throughput();
    long copy = (long) (dirtyBytes * 1000.0 / (rate == null ? DEFAULT_BYTES_PER_S : rate));
    return Math.max(floor, copy);
  }

  long shutdownPartMs() {
    return shutdownMs == null ? DEFAULT_SHUTDOWN_MS : shutdownMs;
  }

  long verifyMs() {
    return (long) (2 * dataBytes * 1000.0 / HASH_BYTES_PER_S);
  }

  long downtimeMs() {
    return shutdownPartMs() + finalPassMs() + verifyMs() + START_MS;
  }
}
