package dev.ferry.cli.migration;

import dev.ferry.api.MigrationView;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.client.ControllerClient;
import dev.ferry.cli.output.MigrationText;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * What every {@code ferry migrate KIND} shares. {@link #start} sends the one request that starts
 * the migration; then the command either prints the id and returns ({@code --detach}) or follows
 * the migration with a {@link MigrationFollower} until its status is final, drawing a progress
 * line on stderr or, with {@code --json}, one {@code MigrationView} per line on stdout (the final
 * one last). Exit 0 when it succeeded, 1 when it failed or was cancelled.
 *
 * <p>A new kind ({@code migrate live}) only declares its options and {@link #start}; the help
 * text of each kind should carry {@link #CTRL_C} and {@link #CANCEL}: Ctrl-C stops following, not
 * the migration.
 */
abstract class MigrateVerb extends ApiCommand {

  static final String CTRL_C = "Ctrl-C only stops following; the migration goes on.";
  static final String CANCEL = "To cancel it: ferry migration cancel ID";

  @Option(names = "--detach", description = "print the migration id (the view with --json) and return at once")
  boolean detach;

  @Option(names = "--json",
      description = "print the API's JSON: while following one MigrationView per line, the final one on the last line")
  boolean json;

  /** How long following rides out an unreachable controller; tests shorten it. */
  Duration patience = Duration.ofSeconds(60);

  MigrateVerb(CliContext ctx) {
    super(ctx);
  }

  /** Sends the request that starts the migration; answers the controller's first view of it. */
  abstract MigrationView start(ControllerClient api);

  /** Instead of starting: answers what the migration would do and returns true; false starts it. */
  boolean preview(ControllerClient api) {
    return false;
  }

  @Override
  protected final void run(ControllerClient api) {
    if (preview(api)) return;
    MigrationView started = start(api);
    if (detach) {
      if (json) {
        printJson(started);
      } else {
        out().println(started.id());
      }
      return;
    }
    MigrationFollower.Listener listener = json ? new JsonLines(out(), err()) : new ProgressLine(err(), ctx.terminal());
    MigrationFollower follower = new MigrationFollower(api, ctx.pollInterval(), err());
    follower.patience = patience;
    MigrationView last = follower.follow(started, listener);
    out().flush();
    MigrationFollower.requireSucceeded(last);
    if (!json) out().println(MigrationText.summary(last));
  }
}
