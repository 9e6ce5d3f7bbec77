package dev.ferry.cli.cluster;

import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import dev.ferry.cli.GlobalOptions;
import dev.ferry.cli.client.ControllerClient;
import dev.ferry.cli.client.Endpoint;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What {@code cluster up|down|status} share: {@code --dir} and its layout. They talk to the
 * controller recorded in the directory; {@code --controller}/{@code --token} are accepted for
 * uniformity with every other command but the directory's own values win.
 */
abstract class LocalClusterCommand implements Callable<Integer> {

  @Mixin GlobalOptions global;
  @Spec CommandSpec spec;

  @Option(names = "--dir", paramLabel = "DIR",
      description = "cluster directory (default: $FERRY_CLUSTER_DIR, else $XDG_STATE_HOME/ferry/cluster)")
  Path dirOption;

  final CliContext ctx;

  LocalClusterCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  ClusterLayout layout() {
    return new ClusterLayout(dirOption == null ? ctx.clusterDir() : ctx.cwd().resolve(dirOption));
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  /** A client for the cluster's own controller, or null while its token file does not exist yet. */
  static ControllerClient client(ClusterFile file) {
    Path tokenFile = Path.of(file.tokenFile());
    if (!java.nio.file.Files.isRegularFile(tokenFile)) return null;
    String token = Endpoint.readToken(tokenFile);
    return token == null ? null : new ControllerClient(new Endpoint(java.net.URI.create(file.controllerUrl()), token,
        file.caFile() == null ? null : Path.of(file.caFile())));
  }

  /** Polls {@code done} every 200 ms until it holds; fails naming {@code what} after {@code timeout}. */
  static void await(String what, Duration timeout, BooleanSupplier done) {
    Instant deadline = Instant.now().plus(timeout);
    while (!done.getAsBoolean()) {
      if (Instant.now().isAfter(deadline)) {
        throw new CliException(CliException.Kind.UNREACHABLE, "gave up after " + timeout.toSeconds() + "s waiting for " + what);
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CliException(CliException.Kind.LOCAL, "interrupted while waiting for " + what, e);
      }
    }
  }
}
