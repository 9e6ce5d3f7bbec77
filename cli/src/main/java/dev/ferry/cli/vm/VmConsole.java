package dev.ferry.cli.vm;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.ConsoleChunk;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import dev.ferry.cli.client.ControllerClient;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ferry vm console NAME [--tail N] [--follow]}. Following polls the controller with the
 * last {@code next_offset}; the controller asks the VM's current host each time, and when the
 * answer comes from another host (the VM moved) the offset belongs to the old host's log, so the
 * new host's log is read from its start.
 */
@Command(name = "console", description = "print a VM's serial console")
final class VmConsole extends ApiCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "VM name")
  String name;

  @Option(names = "--tail", paramLabel = "N", description = "only the last N lines")
  Integer tail;

  @Option(names = "--follow", description = "keep printing new text until Ctrl-C")
  boolean follow;

  /** Stops following after this many polls; tests only, a user stops with Ctrl-C. */
  long maxPolls = Long.MAX_VALUE;

  VmConsole(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void validate() {
    if (tail != null && tail < 0) throw CliException.usage("tail '" + tail + "' is not valid: 0 or more lines");
  }

  @Override
  protected void run(ControllerClient api) {
    PrintWriter out = out();
    String base = VmCommand.path(ApiPaths.VM_CONSOLE, name);
    ConsoleChunk chunk = api.get(base + (tail != null ? "?tail=" + tail : "?offset=0"), ConsoleChunk.class);
    print(out, chunk);
    for (long polls = 0; follow && polls < maxPolls; polls++) {
      pause();
      ConsoleChunk next = api.get(base + "?offset=" + chunk.nextOffset(), ConsoleChunk.class);
      if (next.host() != null && !next.host().equals(chunk.host())) {
        out.println();
        out.println("--- vm " + name + " is now on " + next.host() + " ---");
        next = api.get(base + "?offset=0", ConsoleChunk.class);
      }
      print(out, next);
      chunk = next;
    }
  }

  private static void print(PrintWriter out, ConsoleChunk chunk) {
    if (chunk.text() != null) out.print(chunk.text());
    out.flush();
  }

  private void pause() {
    try {
      Thread.sleep(ctx.pollInterval());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(CliException.Kind.LOCAL, "interrupted while following the console of " + name, e);
    }
  }
}
