package dev.ferry.api.agent;

/**
 * One disk's move as its agent sees it.
 *
 * @param state    {@code none} (no move known), {@code running} (copying), {@code ready} (in
 *                 sync; writes go to both images), {@code pivoted} (the VM uses the new image),
 *                 {@code failed} ({@code error} says why; the VM still uses the old image),
 *                 {@code released} (the old image was let go)
 * @param offset   bytes copied so far; with {@code length} the job's progress
 * @param length   bytes the job expects to copy (grows while the guest writes)
 */
public record MirrorStatus(
    String disk,
    String state,
    String sourcePath,
    String sourceFormat,
    String targetPath,
    String targetFormat,
    long offset,
    long length,
    Long pivotMs,
    String error) {}
