package dev.ferry.qmp.object;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;
import java.util.Objects;

/**
 * {@code qom-set}: sets one property of a QOM object. A block device's {@code drive} may be set
 * after the device is realized (QEMU 6.0 and later): the device's backend then uses the named node,
 * which must allow the device's permissions. QEMU 7.2 aborts (an assertion, the whole process) when
 * {@code drive} names the node the device already uses, so look before setting it.
 *
 * @param path     the object's QOM path, e.g. {@code /machine/peripheral/disk0-dev}
 * @param property the property's name
 * @param value    its new value (a string, number or boolean as the property takes it)
 */
public record QomSet(String path, String property, Object value) implements QmpCommand<Void> {

  public QomSet {
    if (path == null || !path.startsWith("/")) throw new IllegalArgumentException("path '" + path + "' is not a QOM path");
    ArgumentMap.requireName(property, "property");
    Objects.requireNonNull(value, "value");
  }

  /** A device's {@code drive} set to {@code node}: the device given by its id (under /machine/peripheral). */
  public static QomSet drive(String deviceId, String node) {
    ArgumentMap.requireName(deviceId, "device id");
    ArgumentMap.requireName(node, "node-name");
    return new QomSet("/machine/peripheral/" + deviceId, "drive", node);
  }

  @Override
  public String name() {
    return "qom-set";
  }

  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create().with("path", path).with("property", property).with("value", value).build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
