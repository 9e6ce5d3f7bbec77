package dev.ferry.cli.auth;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.auth.AuditEntry;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import dev.ferry.cli.client.ControllerClient;
import dev.ferry.cli.output.Table;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry audit list [--json] [--limit N] [--before ID] [--actor NAME] [--action ACTION]}: newest first. */
@Command(name = "list", description = "list audit entries, newest first")
final class AuditList extends ApiCommand {

  @Option(names = "--json", description = "print the API's JSON")
  boolean json;

  @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "at most N entries, 1-1000 (default ${DEFAULT-VALUE})")
  int limit;

  @Option(names = "--before", paramLabel = "ID", description = "only entries older than entry ID (the next page)")
  Long before;

  @Option(names = "--actor", paramLabel = "NAME", description = "only calls by this token (or host:NAME for an agent)")
  String actor;

  @Option(names = "--action", paramLabel = "ACTION", description = "only this action, e.g. vm.create or migration.live")
  String action;

  AuditList(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void validate() {
    if (limit < 1 || limit > 1000) throw CliException.usage("--limit '" + limit + "' is not valid: 1-1000");
  }

  @Override
  protected void run(ControllerClient api) {
    List<String> query = new ArrayList<>(List.of("limit=" + limit));
    if (before != null) query.add("before=" + before);
    if (actor != null) query.add("actor=" + ControllerClient.seg(actor));
    if (action != null) query.add("action=" + ControllerClient.seg(action));
    List<AuditEntry> entries = api.get(ApiPaths.AUDIT + "?" + String.join("&", query),
        new TypeReference<List<AuditEntry>>() {});
    if (json) {
      printJson(entries);
      return;
    }
    Table t = new Table("ID", "AT", "ACTOR", "ACTION", "TARGET", "OUTCOME", "STATUS", "DETAIL");
    for (AuditEntry e : entries) {
      t.row(e.id(), e.at(), e.actor(), e.action(), e.target(), e.outcome(), e.status(), e.detail());
    }
    t.print(out());
  }
}
