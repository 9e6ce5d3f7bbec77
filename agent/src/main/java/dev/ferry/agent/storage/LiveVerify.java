package dev.ferry.agent.storage;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.qemu.RunDir;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.api.agent.VerifyResult;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.block.BlockDirtyBitmapDisable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies a live move after its pivot, inside the running QEMU: the source node (untouched since
 * the pivot) and the target node are exported read-only over NBD on a UNIX socket in the run
 * directory and compared chunk by chunk. The guest keeps writing to the target meanwhile; the
 * dirty bitmap added just before the pivot records every such write. Once the comparison is done
 * the bitmap is disabled (an enabled bitmap cannot be exported) and exported with the target, and
 * every differing range is looked up in it: a range the guest rewrote proves nothing either way,
 * any other difference fails the verification.
 */
final class LiveVerify {

  private static final Logger log = LoggerFactory.getLogger(LiveVerify.class);
  static final int CHUNK = 4 << 20;
  static final int BLOCK = 4096;
  static final int DIRTY = 1;

  private LiveVerify() {}

  /** A differing byte range, {@code [offset, offset + length)}. */
  record Range(long offset, long length) {
    long end() {
      return offset + length;
    }
  }

  static VerifyResult run(Qmp q, MoveRecord r, RunDir run, ExportReader.Opener opener) {
    long t0 = System.nanoTime();
    Path socket = run.dir().resolve("nbd.sock");
    String oldId = "ferry-old-" + r.disk();
    String newId = "ferry-new-" + r.disk();
    String dirtyId = "ferry-dirty-" + r.disk();
    String target = r.targetNodes().format();
    boolean ourServer = false;
    try {
      for (String id : List.of(oldId, newId, dirtyId)) q.exports().deleteIfPresent(id, false); // left by an interrupted verify
      ourServer = q.nbdServer().startUnix(socket);
      q.exports().add(oldId, r.sourceNodes().format(), false, List.of());
      q.exports().add(newId, target, false, List.of());
      long size;
      List<Range> differing;
      try (ExportReader old = opener.open(socket, oldId, null); ExportReader neu = opener.open(socket, newId, null)) {
        if (old.size() != neu.size()) {
          throw new AgentException(Kind.CONFLICT, "source and target of disk " + r.disk() + " differ in size: "
              + old.size() + " and " + neu.size() + " bytes");
        }
        size = old.size();
        differing = compare(old, neu);
      }
      q.exports().deleteIfPresent(newId, false);
      // the compare is over: writes from now on cannot explain a difference it saw
      q.call(new BlockDirtyBitmapDisable(target, StorageMoves.BITMAP));
      q.exports().add(dirtyId, target, false, List.of(StorageMoves.BITMAP));
      long rewritten = 0;
      long mismatched = 0;
      Long first = null;
      try (ExportReader dirty = opener.open(socket, dirtyId, "qemu:dirty-bitmap:" + StorageMoves.BITMAP)) {
        for (Range d : differing) {
          if (allDirty(dirty, d)) {
            rewritten += d.length();
          } else {
            mismatched += d.length();
            if (first == null) first = d.offset();
          }
        }
      }
      return new VerifyResult(mismatched == 0, size, rewritten, mismatched, first, (System.nanoTime() - t0) / 1_000_000);
    } catch (QmpException e) {
      throw new AgentException(Kind.UNAVAILABLE, "verification of disk " + r.disk() + " of vm " + r.vm()
          + " failed in qemu: " + Qmp.describe(e), e);
    } finally {
      cleanUp(q, r, List.of(oldId, newId, dirtyId), ourServer);
    }
  }

  /** Every range where the two exports differ, at {@link #BLOCK} granularity, adjacent ranges merged. */
  static List<Range> compare(ExportReader a, ExportReader b) {
    var out = new ArrayList<Range>();
    long size = a.size();
    for (long off = 0; off < size; off += CHUNK) {
      int len = (int) Math.min(CHUNK, size - off);
      byte[] x = a.read(off, len);
      byte[] y = b.read(off, len);
      for (int i = 0; i < len; i += BLOCK) {
        int n = Math.min(BLOCK, len - i);
        if (java.util.Arrays.mismatch(x, i, i + n, y, i, i + n) < 0) continue;
        long at = off + i;
        if (!out.isEmpty() && out.getLast().end() == at) {
          out.set(out.size() - 1, new Range(out.getLast().offset(), out.getLast().length() + n));
        } else {
          out.add(new Range(at, n));
        }
      }
    }
    return out;
  }

  /** Whether the bitmap marks all of {@code range} dirty (block status may answer in pieces). */
  static boolean allDirty(ExportReader dirty, Range range) {
    long at = range.offset();
    while (at < range.end()) {
      List<ExportReader.Extent> extents = dirty.blockStatus(at, range.end() - at);
      if (extents.isEmpty()) return false;
      for (ExportReader.Extent e : extents) {
        if ((e.flags() & DIRTY) == 0) return false;
        at += e.length();
        if (at >= range.end()) break;
      }
    }
    return true;
  }

  private static void cleanUp(Qmp q, MoveRecord r, List<String> exports, boolean ourServer) {
    for (String id : exports) {
      try {
        q.exports().deleteIfPresent(id, false);
      } catch (QmpException e) {
        log.warn("vm {}: cannot remove nbd export {}: {}", r.vm(), id, Qmp.describe(e));
      }
    }
    try {
      q.nodes().removeBitmapIfPresent(r.targetNodes().format(), StorageMoves.BITMAP);
    } catch (QmpException e) {
      log.warn("vm {}: cannot remove bitmap {}: {}", r.vm(), StorageMoves.BITMAP, Qmp.describe(e));
    }
    if (ourServer) {
      try {
        q.nbdServer().stop();
      } catch (QmpException e) {
        log.warn("vm {}: cannot stop the nbd server: {}", r.vm(), Qmp.describe(e));
      }
    }
  }
}
