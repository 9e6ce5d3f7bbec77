package dev.ferry.api.agent;

/**
 * {@code PUT /agent/vms/NAME/mirrors/DISK}: start moving one disk of a running VM to a new image
 * in {@code pool} (created by the agent with the disk's virtual size; named
 * {@code <vm>-<disk>-<suffix>.<format>}). Idempotent: a mirror of that disk that already runs is
 * reported, not started again.
 *
 * @param bandwidthBytesPerS 0 = no cap
 * @param adaptiveRate the agent measures the guest's write latency just before the mirror and then
 *     sets the mirror's speed so that the latency stays within 2x of it (with a floor, so the
 *     mirror always converges); only with {@code bandwidthBytesPerS} 0, and only for a running VM
 */
public record MirrorRequest(String pool, String format, long bandwidthBytesPerS, String suffix, boolean adaptiveRate) {

  /** Without the adaptive rate. */
  public MirrorRequest(String pool, String format, long bandwidthBytesPerS, String suffix) {
    this(pool, format, bandwidthBytesPerS, suffix, false);
  }
}
