package dev.ferry.agent.qemu;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.qmp.block.BlockdevDel;
import dev.ferry.qmp.object.QomSet;
import dev.ferry.qmp.QmpErrorException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A VM's QEMU started before its disks may be opened. A warm cutover starts the target's QEMU,
 * paused, while the guest still runs on the source and the passes still write the target's images
 * (through {@code qemu-storage-daemon}, which holds them; QEMU refuses a writable export of a node
 * one of its devices holds, so the last pass cannot go through the staged QEMU instead). Each
 * device starts on a {@code raw} node ({@code <id>-staged}) over a {@code null-co} placeholder of
 * the disk's size. {@link #attach} adds the image's nodes under the names a plain start gives them
 * and sets the device's {@code drive} to the format node ({@code qom-set}, which QEMU allows on a
 * realized device since 6.0; the guest never ran, so there is no write to carry). It replaced a
 * mirror with {@code sync: none} whose job states cost 5 round trips per disk, 26-38 ms of every
 * cutover's downtime. The shim is deleted after: the block graph is then the one a plain start
 * makes, and every later block operation (mirror, bitmap, export) finds it so.
 *
 * <p>The placeholders stay until {@link #release}, just before the guest's first boot: they mark
 * a QEMU whose images are attached but whose guest never ran (a cutover attaches while it still
 * verifies, and resumes only past its point of no return), and QEMU keeps that mark across an
 * agent restart, as it keeps the staged nodes.
 */
public final class StagedDisks {

  private StagedDisks() {}

  /** The command line's nodes for disks of the given virtual sizes (by disk id). */
  public static DiskLayout layout(Map<String, Long> sizes) {
    return disk -> {
      Long size = sizes.get(disk.id());
      if (size == null || size <= 0) throw new IllegalArgumentException("no size for staged disk " + disk.id());
      var placeholder = new LinkedHashMap<String, Object>();
      placeholder.put("driver", "null-co");
      placeholder.put("node-name", placeholder(disk));
      placeholder.put("size", size);
      placeholder.put("read-zeroes", true);
      var shim = new LinkedHashMap<String, Object>();
      shim.put("driver", "raw");
      shim.put("node-name", shim(disk));
      shim.put("file", placeholder(disk));
      return List.of(placeholder, shim);
    };
  }

  /** Whether the QEMU behind {@code qmp} was staged and its guest never ran: disks waiting or attached, not released. */
  public static boolean waiting(Qmp qmp, VmSpec spec) {
    Set<String> names = qmp.nodes().names();
    return spec.disks().stream().anyMatch(d -> names.contains(shim(d)) || names.contains(placeholder(d)));
  }

  /**
   * Puts each disk's image under its device: its nodes added, then the device's {@code drive} set
   * to the format node ({@code qom-set}), then the shim deleted. Each step looks first, so a repeat
   * after a failure part-way goes on where it stopped (and never sets {@code drive} to the node the
   * device has: QEMU 7.2 aborts on that). The images must be free (no other process writing them);
   * the guest must not have run. One round trip per step: the cutover's downtime waits on each,
   * so a QEMU known {@code untouched} (started staged by this agent, no attach tried on it since)
   * is not asked for its nodes: they are the layout's.
   */
  public static void attach(Qmp qmp, VmSpec spec, boolean untouched) {
    Set<String> names = untouched ? layoutNames(spec) : qmp.nodes().names();
    for (DiskSpec d : spec.disks()) {
      if (!names.contains(shim(d))) continue;
      // a format node added just now has no device on it; one there before is looked at
      boolean fresh = !names.contains(d.formatNode());
      if (!names.contains(d.fileNode())) qmp.nodes().addFile(d.fileNode(), d.path());
      if (fresh) qmp.nodes().addFormat(d.formatNode(), d.format().driver(), d.fileNode());
      if (fresh || !d.formatNode().equals(qmp.nodes().ofDevice(d.deviceId()).orElse(null))) {
        try {
          qmp.call(QomSet.drive(d.deviceId(), d.formatNode()));
        } catch (QmpErrorException e) {
          throw new AgentException(Kind.CONFLICT, "disk " + d.id() + ": moving its device onto " + d.path()
              + " failed: " + e.getMessage(), e);
        }
      }
      try {
        qmp.call(new BlockdevDel(shim(d)));
      } catch (QmpErrorException e) {
        // QEMU refuses to delete a node a device uses: say which node the device has
        requireMoved(qmp, d);
        throw e;
      }
    }
  }

  private static Set<String> layoutNames(VmSpec spec) {
    Set<String> names = new java.util.HashSet<>();
    for (DiskSpec d : spec.disks()) {
      names.add(shim(d));
      names.add(placeholder(d));
    }
    return names;
  }

  private static void requireMoved(Qmp qmp, DiskSpec d) {
    String now = qmp.nodes().ofDevice(d.deviceId()).orElse(null);
    if (!d.formatNode().equals(now)) {
      throw new AgentException(Kind.CONFLICT, "disk " + d.id() + ": its device uses node " + now + ", not "
          + d.formatNode() + " (" + d.path() + "), after the staged disk was attached");
    }
  }

  /**
   * Deletes the placeholders {@link #attach} left, once the guest runs: they belong to no device,
   * so this is no part of the guest's downtime. Idempotent.
   */
  public static void release(Qmp qmp, VmSpec spec) {
    Set<String> names = qmp.nodes().names();
    for (DiskSpec d : spec.disks()) {
      if (names.contains(shim(d))) {
        throw new AgentException(Kind.CONFLICT, "disk " + d.id() + " is still staged (node " + shim(d) + "); attach it first");
      }
      if (names.contains(placeholder(d))) qmp.call(new BlockdevDel(placeholder(d)));
    }
  }

  private static String shim(DiskSpec disk) {
    return disk.id() + "-staged";
  }

  private static String placeholder(DiskSpec disk) {
    return disk.id() + "-placeholder";
  }
}
