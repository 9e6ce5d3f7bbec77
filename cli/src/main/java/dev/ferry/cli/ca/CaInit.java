package dev.ferry.cli.ca;

import dev.ferry.cli.Cli;
import dev.ferry.cli.CliContext;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ferry ca init DIR [--name NAME] [--json]}: a new cluster CA; refused over an existing one. */
@Command(name = "init", description = "create a cluster CA (EC P-256) in DIR: ca-cert.pem, ca-key.pem (0600)")
final class CaInit implements Callable<Integer> {

  @Spec CommandSpec spec;

  private final CliContext ctx;

  CaInit(CliContext ctx) {
    this.ctx = ctx;
  }

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help and exit")
  boolean help;

  @Parameters(index = "0", paramLabel = "DIR", description = "directory for the CA (created 0700); keep it off the hosts")
  Path dir;

  @Option(names = "--name", paramLabel = "NAME", defaultValue = "ferry cluster CA",
      description = "the CA certificate's common name (default: ${DEFAULT-VALUE})")
  String name;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  /** {@code ferry ca init --json}. */
  record Created(String dir, String caCert, String subject, Instant notAfter, String fingerprintSha256) {}

  @Override
  public Integer call() throws GeneralSecurityException {
    ClusterCa ca = ClusterCa.init(ctx.cwd().resolve(dir), name);
    var created = new Created(ca.dir().toString(), ca.certFile().toString(),
        ca.certificate().getSubjectX500Principal().getName(), ca.certificate().getNotAfter().toInstant(),
        ClusterCa.fingerprint(ca.certificate()));
    var out = spec.commandLine().getOut();
    if (json) {
      CaIssue.printJson(out, created);
    } else {
      out.println("cluster CA in " + created.dir());
      out.println("certificate  " + created.caCert() + "   (give this one to every host and CLI)");
      out.println("key          " + ca.dir().resolve(ClusterCa.CA_KEY) + "   (0600; keep it off the hosts)");
      out.println("sha-256      " + created.fingerprintSha256());
      out.println("next: ferry ca issue --ca " + created.dir() + " --name HOST --san ADDRESS --out DIR");
    }
    out.flush();
    return Cli.OK;
  }
}
