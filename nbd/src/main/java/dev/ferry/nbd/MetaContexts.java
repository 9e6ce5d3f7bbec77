package dev.ferry.nbd;

import java.util.Objects;

/** Names and status flags of the metadata contexts Ferry uses with {@code NBD_CMD_BLOCK_STATUS}. */
public final class MetaContexts {

  private MetaContexts() {}

  /** Allocation status, defined by the NBD spec. */
  public static final String BASE_ALLOCATION = "base:allocation";

  /** {@code base:allocation}: the range is not allocated (a hole). */
  public static final int STATE_HOLE = 1;

  /** {@code base:allocation}: the range reads as zeroes. */
  public static final int STATE_ZERO = 2;

  /** {@code qemu:dirty-bitmap:NAME}: the range was written since the bitmap started recording. */
  public static final int STATE_DIRTY = 1;

  /**
   * QEMU's context for a dirty bitmap exported with {@code block-export-add ... bitmaps: [NAME]}.
   */
  public static String dirtyBitmap(String bitmap) {
    Objects.requireNonNull(bitmap, "bitmap");
    if (bitmap.isBlank()) {
      throw new IllegalArgumentException("bitmap name must not be blank");
    }
    return "qemu:dirty-bitmap:" + bitmap;
  }
}
