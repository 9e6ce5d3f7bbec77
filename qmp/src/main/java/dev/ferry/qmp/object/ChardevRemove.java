package dev.ferry.qmp.object;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;

/** {@code chardev-remove}: removes a character device {@link ChardevAdd} made; refused while a filter uses it. */
public record ChardevRemove(String id) implements QmpCommand<Void> {

  public ChardevRemove {
    ArgumentMap.requireName(id, "id");
  }

  @Override
  public String name() {
    return "chardev-remove";
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
