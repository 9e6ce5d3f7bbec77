package dev.ferry.cli.host;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.Json;
import dev.ferry.api.PoolCreateRequest;
import dev.ferry.api.PoolView;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import dev.ferry.cli.client.ControllerClient;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ferry pool create NAME --host H --path DIR [--shared]}. With {@code --shared} the
 * controller registers the same path on every online host.
 */
@Command(name = "create", description = "create a pool (a directory) on a host")
final class PoolCreate extends ApiCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "pool name")
  String name;

  @Option(names = "--host", required = true, paramLabel = "H", description = "host the pool is on")
  String host;

  @Option(names = "--path", required = true, paramLabel = "DIR", description = "directory of the pool on that host")
  Path path;

  @Option(names = "--shared", description = "the path is shared storage visible on every host")
  boolean shared;

  @Option(names = "--json", description = "print the API's JSON")
  boolean json;

  PoolCreate(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    JsonNode answer = api.post(ApiPaths.POOLS, new PoolCreateRequest(name, host, ctx.absolute(path), shared), JsonNode.class);
    List<PoolView> pools = views(answer);
    if (json) {
      printJson(answer.isArray() ? pools : pools.getFirst());
      return;
    }
    for (PoolView pool : pools) {
      out().println("created pool " + pool.name() + " on " + pool.host() + " at " + pool.path()
          + (pool.shared() ? " (shared)" : ""));
    }
  }

  /** A shared pool may come back as one view per host; a plain one as a single view. */
  static List<PoolView> views(JsonNode answer) {
    try {
      if (answer.isArray()) {
        return Json.mapper().convertValue(answer, new TypeReference<List<PoolView>>() {});
      }
      return List.of(Json.mapper().treeToValue(answer, PoolView.class));
    } catch (IllegalArgumentException | JsonProcessingException e) {
      throw new CliException(CliException.Kind.API, "unexpected answer to POST " + ApiPaths.POOLS + ": " + e.getMessage(),
          null, e);
    }
  }
}
