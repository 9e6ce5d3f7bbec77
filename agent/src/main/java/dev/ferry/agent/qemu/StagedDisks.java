package dev.ferry.agent.qemu;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.qmp.block.BlockdevDel;
import dev.ferry.qmp.object.QomSet;
import dev.ferry.agent.qemu.qmp.NbdServer;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.QmpErrorException;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.export.NbdServerStop;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A VM's QEMU started before its disks may be opened. A warm cutover starts the target's QEMU,
 * paused, while the guest still runs on the source and the passes still write the target's images
 * (through {@code qemu-storage-daemon}, which holds them). Each device starts on a {@code raw}
 * node ({@code <id>-staged}) over a {@code null-co} placeholder of the disk's size: QEMU refuses a
 * writable export of a node one of its devices holds, so the images are opened beside the devices
 * ({@link #openForFinalPass}) for the final pass to write through this QEMU's own exports. {@link
 * #attach} adds the image's nodes (where they were not opened) under the names a plain start gives
 * them and sets the device's {@code drive} to the format node ({@code qom-set}, which QEMU allows on a
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

  /** What a caller knows of a staged QEMU's block graph without asking it (each question is a round trip). */
  public enum Known {
    /** nothing: an agent restarted since, or an earlier step failed part-way; QEMU is asked */
    NOTHING,
    /** the layout's nodes only: started staged by this agent, nothing tried on it since */
    LAYOUT,
    /** {@link #openForFinalPass} done by this agent, nothing tried on it since */
    OPENED
  }

  /**
   * Opens the images in the staged QEMU before the final pass, beside the devices (still on their
   * shims), and exports each non-raw one writable under its disk id on {@code socket}: the final
   * pass then writes through the QEMU that will run the guest, and the attach after it is the
   * server's stop and {@code qom-set}, where the writer's exit and the images' opening (20-40 ms on
   * a loaded 2-core host) were part of the downtime. The images must be free (the copy's writer
   * gone). A raw image's nodes are opened too but not exported: the passes write its file directly
   * (its size never changes, so the file node's size read now stays right; a qcow2 file grows, which
   * is why it is only ever written through this QEMU once opened here). Each step looks first.
   * Answers whether anything is exported.
   */
  public static boolean openForFinalPass(Qmp qmp, VmSpec spec, Path socket) {
    Set<String> names = qmp.nodes().names();
    for (DiskSpec d : spec.disks()) {
      if (!names.contains(shim(d))) {
        throw new AgentException(Kind.CONFLICT, "disk " + d.id() + " is not staged (no node " + shim(d)
            + "); its image cannot be opened for the final pass");
      }
      if (!names.contains(d.fileNode())) qmp.nodes().addFile(d.fileNode(), d.path());
      if (!names.contains(d.formatNode())) qmp.nodes().addFormat(d.formatNode(), d.format().driver(), d.fileNode());
    }
    List<DiskSpec> exported = spec.disks().stream().filter(d -> d.format() != DiskFormat.RAW).toList();
    if (exported.isEmpty()) return false;
    qmp.nbdServer().startUnix(socket);
    List<String> present = qmp.exports().ids();
    for (DiskSpec d : exported) {
      if (!present.contains(d.id())) qmp.exports().add(d.id(), d.formatNode(), true, List.of());
    }
    return true;
  }

  /**
   * Undoes {@link #openForFinalPass} (the server stopped, the images' nodes deleted) so that a
   * writer process may open the images again. Idempotent; a disk already under its device is kept.
   */
  public static void closeFinalPass(Qmp qmp, VmSpec spec) {
    qmp.nbdServer().stopIfRunning();
    Set<String> names = qmp.nodes().names();
    for (DiskSpec d : spec.disks()) {
      if (!names.contains(shim(d))) continue;
      if (names.contains(d.formatNode())) qmp.call(new BlockdevDel(d.formatNode()));
      if (names.contains(d.fileNode())) qmp.call(new BlockdevDel(d.fileNode()));
    }
  }

  /**
   * Puts each disk's image under its device: its nodes added (unless opened for the final pass),
   * the final pass's exports gone with their server (an export holds write permission on the node
   * the device needs), the device's {@code drive} set to the format node ({@code qom-set}), the
   * shim deleted. Each step looks first, so a repeat after a failure part-way goes on where it
   * stopped (and never sets {@code drive} to the node the device has: QEMU 7.2 aborts on that). The
   * images must be free of other processes; the guest must not have run. One round trip per step,
   * each on the cutover's downtime, so what the caller {@code known} is not asked again.
   */
  public static void attach(Qmp qmp, VmSpec spec, Known known) {
    if (known == Known.OPENED) {
      attachOpened(qmp, spec);
      return;
    }
    Set<String> names = known == Known.LAYOUT ? layoutNames(spec) : qmp.nodes().names();
    // images opened beside a shim may still be exported (a staged QEMU serves nothing else)
    if (spec.disks().stream().anyMatch(d -> names.contains(shim(d)) && names.contains(d.formatNode()))) {
      qmp.nbdServer().stopIfRunning();
    }
    for (DiskSpec d : spec.disks()) {
      if (!names.contains(shim(d))) continue;
      // a format node added just now has no device on it; else look
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

  /**
   * {@link #attach} after this agent's {@link #openForFinalPass}: the devices on their shims, the
   * images' nodes open, the server up unless every disk is raw. The server's stop (which ends its
   * exports and waits until they let go of the nodes), each {@code qom-set} and each shim's
   * deletion go to QEMU at once: one round trip of the downtime, not one per step. A step that
   * fails makes the ones after it fail too (no device moves onto a node an export still writes).
   */
  private static void attachOpened(Qmp qmp, VmSpec spec) {
    boolean served = spec.disks().stream().anyMatch(d -> d.format() != DiskFormat.RAW);
    List<QmpCommand<?>> steps = new ArrayList<>();
    if (served) steps.add(new NbdServerStop());
    for (DiskSpec d : spec.disks()) {
      steps.add(QomSet.drive(d.deviceId(), d.formatNode()));
      steps.add(new BlockdevDel(shim(d)));
    }
    List<QmpException> failed = qmp.callInOrder(steps);
    int i = 0;
    if (served) {
      QmpException stop = failed.get(i++);
      if (stop != null && !NbdServer.notRunning(stop)) throw stop;
    }
    for (DiskSpec d : spec.disks()) {
      QmpException set = failed.get(i++);
      QmpException del = failed.get(i++);
      if (set != null) {
        throw new AgentException(Kind.CONFLICT, "disk " + d.id() + ": moving its device onto " + d.path()
            + " failed: " + set.getMessage(), set);
      }
      if (del != null) {
        requireMoved(qmp, d);
        throw del;
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
