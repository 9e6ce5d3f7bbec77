package dev.ferry.cli.migration;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.MigrationView;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.client.ControllerClient;
import dev.ferry.cli.host.HostList;
import dev.ferry.cli.output.MigrationText;
import dev.ferry.cli.output.Table;
import dev.ferry.api.Paging;
import dev.ferry.cli.client.Pages;
import dev.ferry.cli.output.ListOptions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ferry migration list [--vm V] [--host H] [--status S] [--phase P] [--limit N [--after ID]]
 * [--json]}: newest first (the controller's order).
 */
@Command(name = "list", description = "list migrations, newest first (every page, unless --limit asks for one)")
final class MigrationList extends ApiCommand {

  @Option(names = "--json", description = "print the API's JSON")
  boolean json;

  @Option(names = "--vm", paramLabel = "VM", description = "only the migrations of this VM")
  String vm;

  @Option(names = "--host", paramLabel = "HOST", description = "only migrations from or to this host")
  String host;

  @Option(names = "--status", paramLabel = "STATUS", description = "only migrations in this status (running, succeeded, failed, cancelled)")
  String status;

  @Option(names = "--phase", paramLabel = "PHASE", description = "only migrations in this phase (e.g. mirror, converging, done)")
  String phase;

  @Option(names = "--limit", paramLabel = "N", description = "one page of at most N migrations (1-" + Paging.MAX_LIMIT + ")")
  Integer limit;

  @Option(names = "--after", paramLabel = "ID", description = "the page after this migration (the last one of the previous page)")
  String after;

  @Override
  protected void validate() {
    ListOptions.check(limit, after);
  }

  MigrationList(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    Map<String, String> filters = new LinkedHashMap<>();
    filters.put("vm", vm);
    filters.put("host", host);
    filters.put("status", status == null ? null : status.toLowerCase(Locale.ROOT));
    filters.put("phase", phase);
    var type = new TypeReference<List<MigrationView>>() {};
    List<MigrationView> migrations = limit == null
        ? Pages.all(api, ApiPaths.MIGRATIONS, filters, type, MigrationView::id)
        : Pages.one(api, ApiPaths.MIGRATIONS, filters, limit, after, type);
    if (limit != null && migrations.size() == limit) {
      StringBuilder more = new StringBuilder("more: ferry migration list --limit " + limit + " --after "
          + migrations.getLast().id());
      filters.forEach((k, v) -> {
        if (v != null) more.append(" --").append(k).append(' ').append(v);
      });
      err().println(more);
    }
    if (json) {
      printJson(migrations);
      return;
    }
    table(migrations).print(out());
  }

  static Table table(List<MigrationView> migrations) {
    // SOURCE→TARGET is one cell without spaces, so the columns stay awk-able
    Table t = new Table("ID", "KIND", "VM", "SOURCE→TARGET", "STATUS", "PHASE", "PROGRESS", "TIME");
    for (MigrationView m : migrations) {
      t.row(m.id(), m.kind(), m.vm(), m.source() + "→" + m.target(), HostList.lower(m.status()), m.phase(),
          MigrationText.percentText(m), MigrationText.duration(m.totalMs()).replace(" ", ""));
    }
    return t;
  }
}
