package dev.ferry.qmp.colo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;

/**
 * {@code x-blockdev-change}: adds a child to a {@code quorum} node or removes one, the only way
 * QEMU 7.2 lets a running VM's disk gain COLO's replication child. Exactly one of {@code child}
 * (remove, e.g. {@code children.1}) and {@code node} (add that node as the next child) is given.
 *
 * @param parent the quorum node
 * @param child  the child to remove, or null
 * @param node   the node to add as a child, or null
 */
public record XBlockdevChange(String parent, String child, String node) implements QmpCommand<Void> {

  public XBlockdevChange {
    ArgumentMap.requireName(parent, "parent");
    if ((child == null) == (node == null)) {
      throw new IllegalArgumentException("x-blockdev-change takes exactly one of child (remove) and node (add)");
    }
  }

  /** Adds {@code node} as the next child of {@code parent}. */
  public static XBlockdevChange add(String parent, String node) {
    return new XBlockdevChange(parent, null, node);
  }

  /** Removes {@code child} (e.g. {@code children.1}) from {@code parent}. */
  public static XBlockdevChange remove(String parent, String child) {
    return new XBlockdevChange(parent, child, null);
  }

  @Override
  public String name() {
    return "x-blockdev-change";
  }

  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create().with("parent", parent)
        .withOptional("child", java.util.Optional.ofNullable(child))
        .withOptional("node", java.util.Optional.ofNullable(node)).build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
