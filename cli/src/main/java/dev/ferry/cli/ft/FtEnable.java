package dev.ferry.cli.ft;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.FtEnableRequest;
import dev.ferry.api.FtStatusView;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import dev.ferry.cli.client.ControllerClient;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ferry ft enable VM --secondary HOST [--checkpoint-interval MS] [--no-reprotect] [--detach] [--json]}:
 * waits until the VM is protected (or the enable failed and was rolled back), printing the sync's
 * progress; with {@code --detach} it returns once the controller recorded the enable.
 */
@Command(name = "enable", description = "protect a running, ft-ready VM with a secondary on another host")
final class FtEnable extends ApiCommand {

  static final Duration POLL = Duration.ofMillis(500);

  @Parameters(index = "0", paramLabel = "VM", description = "VM name")
  String vm;

  @Option(names = "--secondary", required = true, paramLabel = "HOST", description = "host to run the secondary on")
  String secondary;

  @Option(names = "--checkpoint-interval", paramLabel = "MS",
      description = "longest time between two checkpoints in milliseconds (default "
          + FtEnableRequest.DEFAULT_CHECKPOINT_INTERVAL_MS + ")")
  Integer interval;

  @Option(names = "--no-reprotect", description = "when the secondary is lost (or took over), leave the VM unprotected"
      + " instead of building a new secondary on an eligible host")
  boolean noReprotect;

  @Option(names = "--detach", description = "return once the enable is recorded; follow it with ferry ft status")
  boolean detach;

  @Option(names = "--json", description = "print the API's JSON (the final status, or the first with --detach)")
  boolean json;

  FtEnable(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    FtStatusView v = api.post(ApiPaths.FT, new FtEnableRequest(vm, secondary, interval, noReprotect ? false : null), FtStatusView.class);
    if (!detach) v = follow(api, v);
    if (json) {
      printJson(v);
    } else if (detach) {
      out().println("vm " + vm + ": " + v.state() + " (secondary on " + v.secondary() + "); follow with: ferry ft status " + vm);
    } else {
      out().println("vm " + vm + ": protected, secondary on " + v.secondary() + ", checkpoints every "
          + v.checkpointIntervalMs() + " ms" + (v.enablePauseMs() == null ? "" : " (guest paused " + v.enablePauseMs()
          + " ms to start)"));
    }
    if (!detach && !"protected".equals(v.state())) {
      throw CliException.local("vm " + vm + ": fault tolerance not enabled: " + v.state()
          + (v.reason() == null ? "" : ": " + v.reason()), null);
    }
  }

  private FtStatusView follow(ControllerClient api, FtStatusView v) {
    String path = ApiPaths.FT_VM.replace("{name}", ControllerClient.seg(vm));
    String shown = null;
    while (v.state().equals("syncing")) {
      if (!json && v.syncTotalBytes() != null && v.syncTotalBytes() > 0) {
        String line = "syncing " + (100 * v.syncedBytes() / v.syncTotalBytes()) + " %";
        if (!line.equals(shown)) err().println(line);
        shown = line;
      }
      try {
        Thread.sleep(POLL);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return v;
      }
      v = api.get(path, FtStatusView.class);
    }
    // a failed enable rolls back through disabling to unprotected with its reason
    while (v.state().equals("disabling") && v.phase().equals("rolling_back")) {
      try {
        Thread.sleep(POLL);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return v;
      }
      v = api.get(path, FtStatusView.class);
    }
    return v;
  }
}
