package dev.ferry.agent.warm;

import dev.ferry.agent.AgentException;
import dev.ferry.nbd.Extent;
import dev.ferry.nbd.MetaContexts;
import dev.ferry.nbd.NbdAddress;
import dev.ferry.nbd.NbdClient;
import dev.ferry.nbd.NbdOptions;
import dev.ferry.nbd.copy.CopyPlan;
import java.util.ArrayList;
import java.util.List;

/**
 * What a pass copies of one disk, asked of the source's export.
 *
 * <p>A later pass asks each context on its own connection: QEMU answers a block status request
 * with every context the connection negotiated, so with the bitmap and {@code base:allocation}
 * on one connection, the bitmap's query over the whole disk walked the whole disk's allocation
 * too, and so did the allocation's. A final pass over a 4 GiB disk spent 44-45 ms planning (1 GiB:
 * 9-18 ms), downtime that grew with the disk. Now the bitmap is read over the disk, and the
 * allocation only over what it marks; the two connections open at once.
 */
final class PassPlan {

  private PassPlan() {}

  /** Pass 0: every range {@code base:allocation} calls data is copied, the rest zeroed. */
  static CopyPlan whole(NbdAddress source, String export, long virtualSize, String disk, NbdOptions options) {
    try (NbdClient probe = NbdClient.connect(source, export, List.of(MetaContexts.BASE_ALLOCATION), options)) {
      requireSize(probe, virtualSize, disk);
      return CopyPlan.fromAllocation(probe.size(), probe.blockStatus(0, probe.size(), MetaContexts.BASE_ALLOCATION));
    }
  }

  /** A later pass: the ranges {@code bitmap} marks dirty, split into data and zeroes by {@code base:allocation}. */
  static CopyPlan dirty(NbdAddress source, String export, long virtualSize, String disk, String bitmap,
      NbdOptions options) throws InterruptedException {
    String context = MetaContexts.dirtyBitmap(bitmap);
    NbdClient[] allocation = new NbdClient[1];
    RuntimeException[] failed = new RuntimeException[1];
    Thread opener = Thread.ofVirtual().start(() -> {
      try {
        allocation[0] = NbdClient.connect(source, export, List.of(MetaContexts.BASE_ALLOCATION), options);
      } catch (RuntimeException e) {
        failed[0] = e;
      }
    });
    List<Extent> dirty;
    try (NbdClient probe = NbdClient.connect(source, export, List.of(context), options)) {
      requireSize(probe, virtualSize, disk);
      dirty = probe.blockStatus(0, probe.size(), context);
    } catch (RuntimeException e) {
      opener.join();
      if (allocation[0] != null) allocation[0].close();
      throw e;
    }
    opener.join();
    if (failed[0] != null) throw failed[0];
    try (NbdClient a = allocation[0]) {
      List<Extent> allocated = new ArrayList<>();
      for (long[] r : marked(dirty)) {
        allocated.addAll(a.blockStatus(r[0], r[1] - r[0], MetaContexts.BASE_ALLOCATION));
      }
      return CopyPlan.fromDirty(virtualSize, dirty, allocated);
    }
  }

  /** The dirty extents as ranges {@code [from, to)}, adjacent ones merged: one allocation query each. */
  static List<long[]> marked(List<Extent> dirty) {
    List<long[]> out = new ArrayList<>();
    for (Extent e : dirty) {
      if (!e.has(MetaContexts.STATE_DIRTY)) continue;
      if (!out.isEmpty() && out.getLast()[1] == e.offset()) {
        out.getLast()[1] = e.end();
      } else {
        out.add(new long[] {e.offset(), e.end()});
      }
    }
    return out;
  }

  private static void requireSize(NbdClient probe, long virtualSize, String disk) {
    if (probe.size() != virtualSize) {
      throw new AgentException(AgentException.Kind.CONFLICT, "disk " + disk + ": the export has " + probe.size()
          + " bytes, the source said " + virtualSize);
    }
  }
}
