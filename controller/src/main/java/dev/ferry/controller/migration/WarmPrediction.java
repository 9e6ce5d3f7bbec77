package dev.ferry.controller.migration;

import java.util.List;

/**
 * The downtime a warm cutover would have if it began now: the guest's power-off, the final pass
 * (the bytes the guest dirtied since the last pass began, at the pace of the last passes, each
 * pass's fixed cost included, and with it the hashing of the chunks it wrote), the comparison of
 * both hosts' kept hashes, and the rest (the staged QEMU taking the images,
 * the hashes, the definition and start on the target).
 *
 * <p>Each fixed term is what this VM took the last time it did that step ({@link Earlier}); the
 * documented defaults (docs/cluster-contract.md) stand in for what was never measured:
 * {@link #DEFAULT_SHUTDOWN_MS} for a VM never powered off by a migration, {@link
 * #DEFAULT_VERIFY_MS} for the comparison (the passes keep both hosts' hashes current, so the
 * disks are not read again), {@link #START_MS} for the rest. Why measured terms: the defaults are guesses for any guest and any host (a 5 s
 * power-off against the test guest's 0.5 s made the first prediction 3x the actual downtime),
 * while the same VM on the same hosts repeats its own figures closely.
 *
 * @param dirtyBytes what the final pass would copy
 * @param lastPasses the last passes (at most {@link #WINDOW}), oldest first
 * @param earlier what this VM's earlier migrations measured
 */
record WarmPrediction(long dirtyBytes, List<Pass> lastPasses, Earlier earlier) {

  static final long DEFAULT_SHUTDOWN_MS = 5_000;
  /**
   * the kept hashes compared: both hosts answer them with the hand-over, so only the comparison is
   * left (0-4 ms measured at 1 GiB, TCG, 2 cores, loaded); 5 ms until the VM has its own
   */
  static final long DEFAULT_VERIFY_MS = 5;
  /**
   * the rest of a staged cutover (the staged QEMU taking the images, both hosts' hashes, the
   * ownership change, the resume): 55-82 ms measured there; 100 ms until the VM has its own
   */
  static final long START_MS = 100;
  static final double DEFAULT_BYTES_PER_S = 50.0 * 1024 * 1024;
  static final int WINDOW = 3;

  /** One pass as measured: bytes sent and wall time from its start to its end. */
  record Pass(long bytes, long ms) {}

  /**
   * The VM's own figures from earlier migrations, each null when never measured.
   *
   * @param shutdownMs its last power-off (a warm cutover, or a cold migration's {@code --shutdown})
   * @param verifyMs its last warm cutovers' hash comparison (the median of up to 3)
   * @param startMs its last warm cutovers' rest after the final pass and verification (the median of up to 3;
   *     a cold move's holds a plain QEMU start, which a staged cutover does not pay, so it does not count)
   */
  record Earlier(Long shutdownMs, Long verifyMs, Long startMs) {
    static final Earlier NONE = new Earlier(null, null, null);
  }

  WarmPrediction {
    lastPasses = List.copyOf(lastPasses.subList(Math.max(0, lastPasses.size() - WINDOW), lastPasses.size()));
    earlier = earlier == null ? Earlier.NONE : earlier;
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
    return earlier.shutdownMs() == null ? DEFAULT_SHUTDOWN_MS : earlier.shutdownMs();
  }

  /** Both hosts answer their kept hashes at once. */
  long verifyMs() {
    return earlier.verifyMs() != null ? earlier.verifyMs() : DEFAULT_VERIFY_MS;
  }

  long startPartMs() {
    return earlier.startMs() == null ? START_MS : earlier.startMs();
  }

  long downtimeMs() {
    return shutdownPartMs() + finalPassMs() + verifyMs() + startPartMs();
  }
}
