package dev.ferry.agent.ft;

import dev.ferry.agent.qemu.DiskLayout;
import dev.ferry.agent.qemu.DiskSpec;
import dev.ferry.agent.qemu.QemuCommandLine;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The block graphs of a COLO pair's disks (colo.md, QEMU's {@code docs/block-replication.txt}).
 *
 * <p>Primary, from boot: {@code <id>-file} → {@code <id>} (format, as for a plain VM, so mirrors
 * and exports still name {@code <id>}) → {@code <id>-colo}, a {@code quorum} with that one child and
 * vote threshold 1, which the device uses. Protection adds the replication child
 * {@code <id>-buddy} (NBD to the secondary) to the quorum; unprotecting removes it. A quorum
 * cannot be put above a running device's disk in QEMU 7.2, hence from boot (docs/ft.md).
 *
 * <p>Secondary: the replica {@code <id>} (format node of a copy, filled by the sync mirror and
 * exported over NBD for the primary's replication child) → {@code <id>-hidden} (qcow2 whose
 * backing is the replica) → {@code <id>-active} (qcow2 over hidden) → {@code <id>-repl}
 * ({@code replication}, mode secondary, top {@code <id>-colo}) → {@code <id>-colo} (quorum), the
 * device's node. Same node names on both sides, so after a failover the survivor's chain collapses
 * to the names a plain VM has.
 */
public final class ColoDisks {

  private ColoDisks() {}

  /** The node the device is attached to on both sides. */
  public static String quorum(String disk) {
    return disk + "-colo";
  }

  /** The primary's replication child of the quorum, added at protection time. */
  public static String buddy(String disk) {
    return disk + "-buddy";
  }

  /** The NBD export of the secondary's replica, written first by the sync mirror, then by the buddy. */
  public static String export(String disk) {
    return disk;
  }

  /** The secondary's two overlays of one disk, created empty with the replica's virtual size. */
  public record Overlays(Path hidden, Path active) {}

  /** The primary's layout: the plain nodes under a one-child quorum. */
  public static final DiskLayout PRIMARY = disk -> List.of(QemuCommandLine.fileNode(disk),
      QemuCommandLine.formatNode(disk), quorumNode(disk.id(), disk.formatNode()));

  /** The secondary's layout; {@code overlays} by disk id. */
  public static DiskLayout secondary(Map<String, Overlays> overlays) {
    return disk -> {
      Overlays o = overlays.get(disk.id());
      if (o == null) throw new IllegalArgumentException("no overlays for disk " + disk.id());
      return List.of(QemuCommandLine.fileNode(disk), QemuCommandLine.formatNode(disk),
          overlay(disk.id() + "-hidden", o.hidden(), disk.formatNode()),
          overlay(disk.id() + "-active", o.active(), disk.id() + "-hidden"),
          replication(disk),
          quorumNode(disk.id(), disk.id() + "-repl"));
    };
  }

  /** The HMP line that adds the primary's replication child over NBD to the secondary's export. */
  public static String buddyDriveAdd(DiskSpec disk, String host, int nbdPort) {
    return "drive_add -n buddy driver=replication,mode=primary,file.driver=nbd,file.host=" + host + ",file.port=" + nbdPort
        + ",file.export=" + export(disk.id()) + ",node-name=" + buddy(disk.id());
  }

  private static Map<String, Object> quorumNode(String id, String child) {
    var node = new LinkedHashMap<String, Object>();
    node.put("driver", "quorum");
    node.put("node-name", quorum(id));
    node.put("vote-threshold", 1);
    node.put("read-pattern", "fifo");
    node.put("children", List.of(child));
    return node;
  }

  private static Map<String, Object> overlay(String name, Path file, String backing) {
    var node = new LinkedHashMap<String, Object>();
    node.put("driver", "qcow2");
    node.put("node-name", name);
    node.put("file", Map.of("driver", "file", "filename", file.toString()));
    node.put("backing", backing);
    return node;
  }

  private static Map<String, Object> replication(DiskSpec disk) {
    var node = new LinkedHashMap<String, Object>();
    node.put("driver", "replication");
    node.put("node-name", disk.id() + "-repl");
    node.put("mode", "secondary");
    node.put("top-id", quorum(disk.id()));
    node.put("file", disk.id() + "-active");
    return node;
  }
}
