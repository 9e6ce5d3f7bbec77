package dev.ferry.cli.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.ApiPaths;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import dev.ferry.cli.client.ControllerClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code ferry migration cutover ID}: {@code POST /api/migrations/ID/cutover}. A warm migration
 * begins its cutover (guest power-off, final pass, start on the target) at its runner's next look;
 * a 409 (another kind, ended, cutover under way) is printed with its reason, exit 1.
 */
@Command(name = "cutover", description = "begin a warm migration's cutover now: the guest powers off, the last"
    + " writes are copied, the VM starts on the target")
final class MigrationCutover extends ApiCommand {

  @Parameters(index = "0", paramLabel = "ID", description = "migration id")
  String id;

  MigrationCutover(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    JsonNode answer;
    try {
      answer = api.post(MigrationCommand.path(ApiPaths.MIGRATION_CUTOVER, id), null, MigrationCancel.CANCEL_TIMEOUT);
    } catch (CliException e) {
      if (e.status() != 409) throw e;
      throw new CliException(e.kind(), "cannot cut over migration " + id + ": " + e.getMessage(), e.problem(), e);
    }
    JsonNode passes = answer == null ? null : answer.get("passes");
    out().println("migration " + id + ": cutover requested" + (passes == null ? "" : " after " + passes.asInt()
        + " pass(es)"));
  }
}
