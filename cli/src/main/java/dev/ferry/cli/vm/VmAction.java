package dev.ferry.cli.vm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.ApiPaths;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.Converters;
import dev.ferry.cli.client.ControllerClient;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ferry vm start|stop|kill NAME}: one {@code POST /api/vms/NAME/ACTION} each. The answer is
 * read as a tree and only its {@code state} is shown, so the CLI does not care whether the
 * controller answers with a {@code VmView} or the agent's {@code AgentVmStatus}.
 */
abstract class VmAction extends ApiCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "VM name")
  String name;

  VmAction(CliContext ctx) {
    super(ctx);
  }

  abstract String action();

  String query() {
    return "";
  }

  Duration timeout() {
    return ControllerClient.TIMEOUT;
  }

  @Override
  protected void run(ControllerClient api) {
    String path = ApiPaths.VM_ACTION.replace("{name}", ControllerClient.seg(name)).replace("{action}", action());
    JsonNode answer = api.post(path + query(), null, timeout());
    JsonNode state = answer == null ? null : answer.get("state");
    out().println("vm " + name + ": " + (state == null || state.isNull() ? action() + " done" : state.asText()));
  }

  @Command(name = "start", description = "start a stopped VM")
  static final class Start extends VmAction {
    Start(CliContext ctx) {
      super(ctx);
    }

    @Override
    String action() {
      return "start";
    }
  }

  @Command(name = "stop", description = "ask the guest to power off, wait for it")
  static final class Stop extends VmAction {
    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s", converter = Converters.Timeout.class,
        description = "how long the guest gets to power off, e.g. 30s or 2m (default ${DEFAULT-VALUE})")
    Duration timeoutOption;

    Stop(CliContext ctx) {
      super(ctx);
    }

    @Override
    String action() {
      return "stop";
    }

    @Override
    String query() {
      return "?timeout_ms=" + timeoutOption.toMillis();
    }

    // the controller waits for the guest, so the HTTP deadline is the guest's plus a margin
    @Override
    Duration timeout() {
      return timeoutOption.plus(ControllerClient.TIMEOUT);
    }
  }

  @Command(name = "kill", description = "kill the VM's QEMU at once")
  static final class Kill extends VmAction {
    Kill(CliContext ctx) {
      super(ctx);
    }

    @Override
    String action() {
      return "kill";
    }
  }
}
