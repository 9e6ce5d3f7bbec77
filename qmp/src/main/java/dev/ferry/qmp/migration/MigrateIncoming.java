package dev.ferry.qmp.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;

/**
 * {@code migrate-incoming}: on a destination started with {@code -incoming defer}, starts
 * listening for the migration stream. Set capabilities and parameters before it.
 *
 * @param uri the URI to listen on, e.g. {@code tcp:0.0.0.0:4444}
 */
public record MigrateIncoming(String uri) implements QmpCommand<Void> {

  public MigrateIncoming {
    ArgumentMap.requireName(uri, "uri");
  }

  @Override
  public String name() {
    return "migrate-incoming";
  }

  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create()
        .with("uri", uri)
        .build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
