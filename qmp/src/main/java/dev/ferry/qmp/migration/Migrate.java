package dev.ferry.qmp.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code migrate}: starts an outgoing migration; QEMU replies at once, progress comes from
 * {@link QueryMigrate} and the {@code MIGRATION} events.
 *
 * @param uri the destination, e.g. {@code tcp:10.0.0.2:4444} or {@code unix:/path}
 * @param resume true to resume a paused post-copy migration (after {@link MigrateRecover} on
 *     the destination); QEMU's default (false) when empty
 */
public record Migrate(String uri, Optional<Boolean> resume) implements QmpCommand<Void> {

  public Migrate {
    ArgumentMap.requireName(uri, "uri");
    Objects.requireNonNull(resume, "resume");
  }

  /** A new migration to {@code uri}. */
  public Migrate(String uri) {
    this(uri, Optional.empty());
  }

  /** Resumes a paused post-copy migration over {@code uri}. */
  public static Migrate resume(String uri) {
    return new Migrate(uri, Optional.of(true));
  }

  @Override
  public String name() {
    return "migrate";
  }

  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create().with("uri", uri).withOptional("resume", resume).build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
