package dev.ferry.qmp.object;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.Members;
import java.util.List;
import java.util.Map;

/**
 * {@code qom-list}: the properties (children included) of the QOM object at {@code path}. Ferry
 * lists {@code /objects} to see which objects {@link ObjectAdd} made are there before it acts.
 */
public record QomList(String path) implements QmpCommand<List<QomList.Property>> {

  /** One property: {@code type} is e.g. {@code child<filter-rewriter>} for an object made by object-add. */
  public record Property(String name, String type) {}

  public static QomList objects() {
    return new QomList("/objects");
  }

  @Override
  public String name() {
    return "qom-list";
  }

  @Override
  public Map<String, ?> arguments() {
    return Map.of("path", path);
  }

  @Override
  public List<Property> parse(JsonNode ret) {
    return Members.list(ret, "qom-list return", p -> new Property(Members.text(p, "name"), Members.text(p, "type")));
  }
}
