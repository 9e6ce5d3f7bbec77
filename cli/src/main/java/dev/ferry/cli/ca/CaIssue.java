package dev.ferry.cli.ca;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.ferry.api.Json;
import dev.ferry.cli.Cli;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ferry ca issue --ca DIR --name HOST --san ADDR... --out DIR [--json]}: enrols a host. The
 * output directory is what the host's daemon gets as {@code --tls DIR}, and the QEMUs it starts
 * read the same files; copy it to the host as a whole (it holds the host's private key).
 */
@Command(name = "issue", description = "issue a certificate for a host (or the controller) into a TLS directory:"
    + " ca-cert.pem, server-cert.pem, server-key.pem, client-cert.pem, client-key.pem")
final class CaIssue implements Callable<Integer> {

  @Spec CommandSpec spec;

  private final CliContext ctx;

  CaIssue(CliContext ctx) {
    this.ctx = ctx;
  }

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help and exit")
  boolean help;

  @Option(names = "--ca", required = true, paramLabel = "DIR", description = "the CA directory made by 'ferry ca init'")
  Path ca;

  @Option(names = "--name", required = true, paramLabel = "HOST",
      description = "the host's name, as its agent's --name (or 'controller'); the certificate's subject is CN=HOST")
  String name;

  @Option(names = "--san", paramLabel = "IP_OR_DNS", arity = "1..*",
      description = "an address or DNS name peers reach the host by (repeatable; HOST itself is always included)")
  List<String> sans = new ArrayList<>();

  @Option(names = "--out", required = true, paramLabel = "DIR",
      description = "directory to write into (created 0700); pass it to the daemon as --tls DIR")
  Path out;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  /** {@code ferry ca issue --json}. */
  record IssuedView(String name, String dir, String subject, List<String> sans, Instant notAfter,
      String fingerprintSha256, Files files) {}

  /** The files written, by their role. */
  record Files(String caCert, String serverCert, String serverKey, String clientCert, String clientKey) {}

  @Override
  public Integer call() {
    if (name == null || name.isBlank()) throw CliException.usage("--name must not be empty");
    ClusterCa.Issued issued = ClusterCa.load(ctx.cwd().resolve(ca)).issue(name, sans, ctx.cwd().resolve(out));
    var d = issued.dir();
    var view = new IssuedView(issued.name(), d.dir().toString(), issued.subject(), issued.sans(), issued.notAfter(),
        issued.fingerprintSha256(), new Files(d.caCert().toString(), d.serverCert().toString(),
            d.serverKey().toString(), d.clientCert().toString(), d.clientKey().toString()));
    PrintWriter w = spec.commandLine().getOut();
    if (json) {
      printJson(w, view);
    } else {
      w.println("certificate for " + view.name() + " (" + view.subject() + ") in " + view.dir());
      w.println("valid for    " + String.join(", ", view.sans()) + " until " + view.notAfter());
      w.println("sha-256      " + view.fingerprintSha256());
      w.println("copy " + view.dir() + " to the host (keep it 0700) and start the daemon with --tls DIR");
    }
    w.flush();
    return Cli.OK;
  }

  static void printJson(PrintWriter w, Object value) {
    try {
      w.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(value));
    } catch (JsonProcessingException e) {
      throw CliException.local("cannot print json: " + e.getOriginalMessage(), e);
    }
  }
}
