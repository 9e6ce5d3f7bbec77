package dev.ferry.nbd;

/**
 * One block status descriptor: a range of the export and its status flags in one metadata
 * context. The meaning of the flags depends on the context; see {@link MetaContexts}.
 *
 * @param offset the first byte of the range
 * @param length bytes in the range, positive
 * @param flags the status flags, e.g. {@link MetaContexts#STATE_HOLE} |
 *     {@link MetaContexts#STATE_ZERO} in {@code base:allocation}, {@link MetaContexts#STATE_DIRTY}
 *     in {@code qemu:dirty-bitmap:NAME}
 */
public record Extent(long offset, long length, int flags) {

  public Extent {
    if (offset < 0) {
      throw new IllegalArgumentException("negative offset: " + offset);
    }
    if (length <= 0) {
      throw new IllegalArgumentException("extent length must be positive: " + length);
    }
  }

  /** The first byte after the range. */
  public long end() {
    return offset + length;
  }

  /** Whether every bit of {@code flag} is set. */
  public boolean has(int flag) {
    return (flags & flag) == flag;
  }
}
