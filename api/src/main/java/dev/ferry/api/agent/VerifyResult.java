package dev.ferry.api.agent;

/**
 * {@code POST /agent/vms/NAME/mirrors/DISK/verify}: the new image compared with the old one as
 * of the pivot. Blocks the guest rewrote since are not evidence either way and are counted in
 * {@code rewrittenBytes}; any other difference fails the verification.
 */
public record VerifyResult(
    boolean ok, long comparedBytes, long rewrittenBytes, long mismatchedBytes, Long firstMismatchOffset, long elapsedMs) {}
