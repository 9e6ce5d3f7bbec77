package dev.ferry.api.agent;

/**
 * One disk's move as its agent sees it.
 *
 * @param state    where the move stands; with {@link MirrorState#FAILED} {@code error} says why
 * @param offset   bytes copied so far; with {@code length} the job's progress
 * @param length   bytes the job expects to copy (grows while the guest writes)
 */
public record MirrorStatus(
    String disk,
    MirrorState state,
    String sourcePath,
    String sourceFormat,
    String targetPath,
    String targetFormat,
    long offset,
    long length,
    Long pivotMs,
    String error) {}
