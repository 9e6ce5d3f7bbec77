package dev.ferry.cli.ft;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.FtStatusView;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.client.ControllerClient;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ferry ft failover VM}: a planned switch to the secondary, e.g. before maintenance of the primary's host. */
@Command(name = "failover", description = "switch the VM to its secondary now (planned): the primary is stopped, the"
    + " secondary runs on and owns the VM")
final class FtFailover extends ApiCommand {

  /** the controller waits up to 90 s for the takeover */
  static final Duration TIMEOUT = Duration.ofSeconds(100);

  @Parameters(index = "0", paramLabel = "VM", description = "VM name")
  String vm;

  @Option(names = "--json", description = "print the API's JSON")
  boolean json;

  FtFailover(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    FtStatusView v = api.post(ApiPaths.FT_FAILOVER.replace("{name}", ControllerClient.seg(vm)), null, FtStatusView.class,
        TIMEOUT);
    if (json) {
      printJson(v);
      return;
    }
    FtStatusView.Failover f = v.failovers().isEmpty() ? null : v.failovers().getLast();
    out().println("vm " + vm + ": failed over to " + v.primary() + (f == null ? "" : " (guest running "
        + f.takeoverMs() + " ms after the switch began)") + "; " + v.state() + " until a new secondary is built");
  }
}
