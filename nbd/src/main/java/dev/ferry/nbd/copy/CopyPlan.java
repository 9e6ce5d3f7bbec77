package dev.ferry.nbd.copy;

import dev.ferry.nbd.Extent;
import dev.ferry.nbd.MetaContexts;
import java.util.ArrayList;
import java.util.List;

/**
 * What a copy does: ranges to read and write, and ranges to zero, ascending and not overlapping.
 * Ranges the plan does not name are left alone (a warm pass names only what the guest dirtied).
 *
 * @param size the export size in bytes
 * @param ranges the ranges, ascending, not overlapping
 */
public record CopyPlan(long size, List<CopyRange> ranges) {

  public CopyPlan {
    ranges = List.copyOf(ranges);
    long at = 0;
    for (CopyRange r : ranges) {
      if (r.offset() < at || r.end() > size) {
        throw new IllegalArgumentException("plan range " + r + " overlaps or leaves the export of "
            + size + " bytes");
      }
      at = r.end();
    }
  }

  /**
   * A full copy from {@code base:allocation} extents: what reads as zero ({@code STATE_ZERO},
   * hole or not) is zeroed, everything else copied.
   */
  public static CopyPlan fromAllocation(long size, List<Extent> allocation) {
    List<CopyRange> ranges = new ArrayList<>();
    for (Extent e : allocation) {
      add(ranges, new CopyRange(e.offset(), e.length(), e.has(MetaContexts.STATE_ZERO)));
    }
    return new CopyPlan(size, ranges);
  }

  /**
   * An incremental pass: only the {@code dirty} ranges (e.g. a {@code qemu:dirty-bitmap}'s
   * extents with {@code STATE_DIRTY}), each split by {@code allocation} into data and zeroes.
   */
  public static CopyPlan fromDirty(long size, List<Extent> dirty, List<Extent> allocation) {
    List<CopyRange> ranges = new ArrayList<>();
    int a = 0;
    for (Extent d : dirty) {
      if (!d.has(MetaContexts.STATE_DIRTY)) {
        continue;
      }
      while (a < allocation.size() && allocation.get(a).end() <= d.offset()) {
        a++;
      }
      for (int i = a; i < allocation.size() && allocation.get(i).offset() < d.end(); i++) {
        Extent e = allocation.get(i);
        long from = Math.max(e.offset(), d.offset());
        long to = Math.min(e.end(), d.end());
        add(ranges, new CopyRange(from, to - from, e.has(MetaContexts.STATE_ZERO)));
      }
    }
    return new CopyPlan(size, ranges);
  }

  /** Bytes to be read and sent. */
  public long dataBytes() {
    return ranges.stream().filter(r -> !r.zero()).mapToLong(CopyRange::length).sum();
  }

  /** Bytes to be zeroed without sending. */
  public long zeroBytes() {
    return ranges.stream().filter(CopyRange::zero).mapToLong(CopyRange::length).sum();
  }

  private static void add(List<CopyRange> ranges, CopyRange next) {
    if (!ranges.isEmpty()) {
      CopyRange last = ranges.getLast();
      if (last.zero() == next.zero() && last.end() == next.offset()) {
        ranges.set(ranges.size() - 1,
            new CopyRange(last.offset(), last.length() + next.length(), last.zero()));
        return;
      }
    }
    ranges.add(next);
  }
}
