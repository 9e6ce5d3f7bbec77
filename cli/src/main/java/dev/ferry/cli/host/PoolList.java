package dev.ferry.cli.host;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.PoolView;
import dev.ferry.api.Sizes;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.client.ControllerClient;
import dev.ferry.cli.output.Table;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry pool list [--json]}: one line per (pool, host). */
@Command(name = "list", description = "list pools, one line per pool and host")
final class PoolList extends ApiCommand {

  @Option(names = "--json", description = "print the API's JSON")
  boolean json;

  PoolList(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    List<PoolView> pools = api.get(ApiPaths.POOLS, new TypeReference<List<PoolView>>() {});
    if (json) {
      printJson(pools);
      return;
    }
    Table t = new Table("NAME", "HOST", "SHARED", "CAPACITY", "FREE", "PATH");
    for (PoolView p : pools) {
      t.row(p.name(), p.host(), p.shared() ? "yes" : "no", Sizes.format(p.capacityBytes()),
          Sizes.format(p.freeBytes()), p.path());
    }
    t.print(out());
  }
}
