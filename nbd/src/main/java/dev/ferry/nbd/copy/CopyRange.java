package dev.ferry.nbd.copy;

/**
 * One range of a copy plan.
 *
 * @param offset the first byte
 * @param length bytes, positive
 * @param zero whether the source reads as zeroes here: nothing is read or sent, the target is
 *     zeroed (or left alone when it is known to be zero already)
 */
public record CopyRange(long offset, long length, boolean zero) {

  public CopyRange {
    if (offset < 0 || length <= 0) {
      throw new IllegalArgumentException("bad range: offset " + offset + " length " + length);
    }
  }

  public long end() {
    return offset + length;
  }
}
