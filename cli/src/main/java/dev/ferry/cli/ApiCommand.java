package dev.ferry.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.ferry.api.Json;
import dev.ferry.cli.client.ControllerClient;
import dev.ferry.cli.client.Endpoint;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What every command that talks to the controller shares: the global options, the resolved
 * client and the output writer. Subclasses do their work in {@link #run(ControllerClient)}.
 */
public abstract class ApiCommand implements Callable<Integer> {

  @Mixin protected GlobalOptions global;
  @Spec protected CommandSpec spec;

  protected final CliContext ctx;

  protected ApiCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public final Integer call() {
    validate();
    run(new ControllerClient(Endpoint.resolve(global.controller, global.tokenFile, global.ca, ctx)));
    out().flush();
    return Cli.OK;
  }

  /** Checks done before any configuration is read or request sent; throw a USAGE CliException. */
  protected void validate() {}

  protected abstract void run(ControllerClient api);

  protected PrintWriter out() {
    return spec.commandLine().getOut();
  }

  /** Where progress and notes go, so that stdout stays the command's result. */
  protected PrintWriter err() {
    return spec.commandLine().getErr();
  }

  /** Prints a DTO (or list of them) as the API's JSON, indented. */
  protected void printJson(Object value) {
    try {
      out().println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(value));
    } catch (JsonProcessingException e) {
      throw CliException.local("cannot print json: " + e.getOriginalMessage(), e);
    }
  }
}
