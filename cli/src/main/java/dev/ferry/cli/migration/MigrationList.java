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
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry migration list [--json]}: every migration, newest first (the controller's order). */
@Command(name = "list", description = "list migrations, newest first")
final class MigrationList extends ApiCommand {

  @Option(names = "--json", description = "print the API's JSON")
  boolean json;

  MigrationList(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    List<MigrationView> migrations = api.get(ApiPaths.MIGRATIONS, new TypeReference<List<MigrationView>>() {});
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
