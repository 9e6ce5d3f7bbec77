package dev.ferry.api.agent;

/**
 * {@code PUT /agent/vms/NAME/mirrors/DISK}: start moving one disk of a running VM to a new image
 * in {@code pool} (created by the agent with the disk's virtual size; named
 * {@code <vm>-<disk>-<suffix>.<format>}). Idempotent: a mirror of that disk that already runs is
 * reported, not started again.
 *
 * @param bandwidthBytesPerS 0 = no cap
 */
public record MirrorRequest(String pool, String format, long bandwidthBytesPerS, String suffix) {}
