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
 * {@code ferry migration cancel ID}: {@code POST /api/migrations/ID/cancel}. Only possible before
 * the point of no return (for storage: the pivot); after it the controller answers 409 with the
 * reason, which is printed, exit 1. The answer is read as a tree so only its status matters.
 */
@Command(name = "cancel", description = "cancel a migration before its point of no return; the VM stays where it was")
final class MigrationCancel extends ApiCommand {

  static final java.time.Duration CANCEL_TIMEOUT = java.time.Duration.ofSeconds(30);

  @Parameters(index = "0", paramLabel = "ID", description = "migration id")
  String id;

  MigrationCancel(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    JsonNode answer;
    try {
      // the controller waits up to 15 s for the rollback so that its answer says what happened
      answer = api.post(MigrationCommand.path(ApiPaths.MIGRATION_CANCEL, id), null, CANCEL_TIMEOUT);
    } catch (CliException e) {
      if (e.status() != 409) throw e;
      throw new CliException(e.kind(), "cannot cancel migration " + id + ": " + e.getMessage(), e.problem(), e);
    }
    JsonNode status = answer == null ? null : answer.get("status");
    out().println("migration " + id + ": " + (status == null || status.isNull() ? "cancel requested"
        : status.asText().equals("running") ? "cancel requested, rolling back" : status.asText()));
  }
}
