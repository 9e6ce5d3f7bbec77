package dev.ferry.cli.network;

import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import dev.ferry.cli.cluster.LocalNetwork;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ferry network exec NAME -- CMD [ARGS...]}: runs a command inside the network namespace
 * the local cluster made for network NAME, where the gateway and the DHCP server are: the one
 * place on this machine from which guests are reachable. Exits with the command's status.
 */
@Command(name = "exec", description = "run a command inside the local cluster's namespace of a network")
final class NetworkExec implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "NAME", description = "network name, e.g. default")
  String name;

  @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD", description = "the command and its arguments (after --)")
  List<String> command = new ArrayList<>();

  @Option(names = "--dir", paramLabel = "DIR",
      description = "cluster directory (default: $FERRY_CLUSTER_DIR, else $XDG_STATE_HOME/ferry/cluster)")
  Path dirOption;

  private final CliContext ctx;

  NetworkExec(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() {
    Path dir = dirOption == null ? ctx.clusterDir() : ctx.cwd().resolve(dirOption);
    LocalNetwork net = LocalNetwork.recorded(dir, name).orElseThrow(() -> CliException.local("network '" + name
        + "' has no namespace in cluster directory " + dir + " (ferry cluster up makes one for network 'default'"
        + " when run as root with dnsmasq installed)", null));
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", net.namespace()));
    cmd.addAll(command);
    try {
      return new ProcessBuilder(cmd).inheritIO().start().waitFor();
    } catch (IOException e) {
      throw CliException.local("cannot run " + String.join(" ", cmd) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CliException.local("interrupted running " + String.join(" ", cmd), e);
    }
  }
}
