package dev.ferry.cli.migration;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.ferry.api.Json;
import dev.ferry.api.MigrationView;
import dev.ferry.cli.CliException;
import java.io.PrintWriter;

/**
 * {@code --json} while following: each changed {@code MigrationView} as one compact JSON line on
 * stdout, so the last line is the final view ({@code tail -n1 | jq .status}); notes go to stderr.
 */
final class JsonLines implements MigrationFollower.Listener {

  private final PrintWriter out;
  private final PrintWriter err;

  JsonLines(PrintWriter out, PrintWriter err) {
    this.out = out;
    this.err = err;
  }

  @Override
  public void changed(MigrationView view) {
    try {
      out.println(Json.mapper().writeValueAsString(view));
    } catch (JsonProcessingException e) {
      throw CliException.local("cannot print json: " + e.getOriginalMessage(), e);
    }
    out.flush();
  }

  @Override
  public void note(String message) {
    err.println("ferry: " + message);
    err.flush();
  }
}
