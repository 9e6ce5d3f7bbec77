package dev.ferry.agent.qemu.qmp;

import dev.ferry.qmp.block.BlockDeviceInfo;
import dev.ferry.qmp.block.BlockDirtyBitmapAdd;
import dev.ferry.qmp.block.BlockDirtyBitmapRemove;
import dev.ferry.qmp.block.BlockdevAdd;
import dev.ferry.qmp.block.BlockdevDel;
import dev.ferry.qmp.block.QueryBlock;
import dev.ferry.qmp.block.QueryNamedBlockNodes;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The block graph of one QEMU: which nodes and bitmaps exist ({@code query-named-block-nodes}),
 * which node a guest device uses ({@code query-block}), and adding and removing nodes and bitmaps
 * only where that is still to be done.
 */
public final class Nodes {

  private final Qmp qmp;

  Nodes(Qmp qmp) {
    this.qmp = qmp;
  }

  /** Every node name of the block graph. */
  public Set<String> names() {
    var names = new HashSet<String>();
    for (BlockDeviceInfo n : list()) names.add(n.nodeName());
    return names;
  }

  /** The names of the dirty bitmaps on {@code node}; empty when it has none or does not exist. */
  public Set<String> bitmaps(String node) {
    var names = new HashSet<String>();
    for (BlockDeviceInfo n : list()) {
      if (n.nodeName().equals(node)) n.dirtyBitmaps().forEach(b -> names.add(b.name()));
    }
    return names;
  }

  /** The node a guest device (by qdev id, e.g. {@code disk0-dev}) reads and writes, or empty. */
  public Optional<String> ofDevice(String deviceId) {
    for (QueryBlock.BlockInfo b : qmp.call(new QueryBlock())) {
      String qdev = b.qdev().orElse("");
      if (qdev.equals(deviceId) || qdev.startsWith("/machine/peripheral/" + deviceId + "/")) {
        return b.inserted().map(BlockDeviceInfo::nodeName);
      }
    }
    return Optional.empty();
  }

  /** Adds a file node on {@code path}, with the host page cache as the guest's own disks use it. */
  public void addFile(String node, String path) {
    addFile(node, path, false);
  }

  /**
   * Adds a file node on {@code path}; with {@code direct} it bypasses the host page cache
   * ({@code O_DIRECT}), which some file systems (tmpfs) refuse: then QEMU refuses the node.
   */
  public void addFile(String node, String path, boolean direct) {
    var options = new LinkedHashMap<String, Object>();
    options.put("driver", "file");
    options.put("node-name", node);
    options.put("filename", path);
    options.put("cache", Map.of("direct", direct, "no-flush", false));
    qmp.call(new BlockdevAdd(options));
  }

  /** Adds a format node ({@code qcow2}, {@code raw}) on file node {@code fileNode}. */
  public void addFormat(String node, String driver, String fileNode) {
    qmp.call(new BlockdevAdd(Map.of("driver", driver, "node-name", node, "file", fileNode)));
  }

  /** Adds an NBD client node on export {@code export} of the server at {@code host:port}. */
  public void addNbd(String node, String host, int port, String export) {
    addNbd(node, host, port, export, Map.of());
  }

  /** The same with {@code tls} members ({@code tls-creds}, {@code tls-hostname}; see {@link StreamTls#outgoing}). */
  public void addNbd(String node, String host, int port, String export, Map<String, Object> tls) {
    // blockdev-add takes the flat address syntax, unlike nbd-server-start
    var server = Map.of("type", "inet", "host", host, "port", Integer.toString(port));
    var options = new java.util.LinkedHashMap<String, Object>(Map.of("driver", "nbd", "node-name", node, "server", server,
        "export", export));
    options.putAll(tls);
    qmp.call(new BlockdevAdd(options));
  }

  /** Removes {@code node} if it exists. */
  public void deleteIfPresent(String node) {
    if (names().contains(node)) qmp.call(new BlockdevDel(node));
  }

  /** Adds a recording bitmap {@code bitmap} to {@code node} unless it has one by that name. */
  public void addBitmapIfMissing(String node, String bitmap) {
    if (!bitmaps(node).contains(bitmap)) qmp.call(new BlockDirtyBitmapAdd(node, bitmap));
  }

  /** Removes bitmap {@code bitmap} of {@code node} if it exists. */
  public void removeBitmapIfPresent(String node, String bitmap) {
    if (bitmaps(node).contains(bitmap)) qmp.call(new BlockDirtyBitmapRemove(node, bitmap));
  }

  private List<BlockDeviceInfo> list() {
    return qmp.call(new QueryNamedBlockNodes());
  }
}
