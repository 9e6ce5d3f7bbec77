package dev.ferry.agent.qemu;

import java.util.List;
import java.util.Map;

/**
 * How one disk's block nodes appear on a QEMU command line: the {@code -blockdev} definitions,
 * innermost first; the device is attached to the last one. Plain VMs use {@link #PLAIN}; a VM
 * under fault tolerance needs other graphs (a quorum on top on the primary, a replication chain on
 * the secondary: {@code dev.ferry.agent.ft.ColoDisks}) with the same device, so that both sides of
 * a COLO pair keep an identical device model.
 */
@FunctionalInterface
public interface DiskLayout {

  List<Map<String, Object>> nodes(DiskSpec disk);

  /** {@code <id>-file} (protocol) under {@code <id>} (format), the device on the format node. */
  DiskLayout PLAIN = disk -> List.of(QemuCommandLine.fileNode(disk), QemuCommandLine.formatNode(disk));
}
