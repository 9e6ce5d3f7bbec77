package dev.ferry.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.export.NbdServerStart;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;

/**
 * {@code blockdev-add}: adds a block node graph. The arguments are QAPI's flat
 * {@code BlockdevOptions}, sent as given, e.g.
 * {@code {driver: qcow2, node-name: tgt0, file: {driver: file, filename: /path}}} or an NBD
 * client node {@code {driver: nbd, node-name: nbd-tgt, server: {type: unix, path: SOCK},
 * export: disk0}} (here the address uses the flat {@code SocketAddress} syntax, unlike
 * {@link NbdServerStart}).
 *
 * @param options the node definition; it must name a {@code driver} and, because QEMU requires it
 *     for the root node and Ferry refers to nodes by name, a {@code node-name}. Copied, keeping
 *     the caller's order.
 */
public record BlockdevAdd(Map<String, Object> options) implements QmpCommand<Void> {

  public BlockdevAdd {
    options = ArgumentMap.orderedCopy(options, "options");
    if (!(options.get("driver") instanceof String driver) || driver.isBlank()) {
      throw new IllegalArgumentException("blockdev-add options need a 'driver': " + options);
    }
    if (!(options.get("node-name") instanceof String node) || node.isBlank()) {
      throw new IllegalArgumentException("blockdev-add options need a 'node-name': " + options);
    }
  }

  /** The {@code node-name} of the root node being added. */
  public String nodeName() {
    return (String) options.get("node-name");
  }

  @Override
  public String name() {
    return "blockdev-add";
  }

  @Override
  public Map<String, ?> arguments() {
    return options;
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
