package dev.ferry.qmp.object;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;

/** {@code object-del}: removes a QOM object made by {@link ObjectAdd}; refused while something uses it. */
public record ObjectDel(String id) implements QmpCommand<Void> {

  public ObjectDel {
    ArgumentMap.requireName(id, "id");
  }

  @Override
  public String name() {
    return "object-del";
  }

  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create().with("id", id).build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
