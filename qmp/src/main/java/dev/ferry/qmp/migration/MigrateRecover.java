package dev.ferry.qmp.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;

/**
 * {@code migrate-recover}: on the destination, listens on a new URI to resume a paused
 * post-copy migration (the source then runs {@code migrate} with {@code resume: true}).
 *
 * @param uri the URI to listen on, e.g. {@code tcp:0:4445}
 */
public record MigrateRecover(String uri) implements QmpCommand<Void> {

  public MigrateRecover {
    ArgumentMap.requireName(uri, "uri");
  }

  @Override
  public String name() {
    return "migrate-recover";
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
