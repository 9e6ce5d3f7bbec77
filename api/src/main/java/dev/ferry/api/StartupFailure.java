package dev.ferry.api;

import java.util.ArrayList;
import java.util.List;

/**
 * A daemon ({@code ferry agent}, {@code ferry controller}) could not start: a port in use, an
 * unreadable file, a bad setting. Its message is the whole story in one line, printed by the CLI
 * as {@code ferry: <message>} with exit 1, like any other failure of a command: whoever starts
 * the daemon (a user, systemd) needs what failed and why, not the exception's type.
 */
public final class StartupFailure extends RuntimeException {

  public StartupFailure(String message, Throwable cause) {
    super(message, cause);
  }

  /** {@code "<daemon> cannot start: <what went wrong>"}, the causes' messages joined. */
  public static StartupFailure of(String daemon, Throwable cause) {
    return new StartupFailure(daemon + " cannot start: " + oneLine(cause), cause);
  }

  /**
   * The messages of {@code t} and its causes, each once, joined by {@code ": "}, on one line. A
   * cause without a message (a bug, not a situation) is named by its type.
   */
  public static String oneLine(Throwable t) {
    List<String> parts = new ArrayList<>();
    String joined = "";
    for (Throwable c = t; c != null && parts.size() < 5; c = c.getCause() == c ? null : c.getCause()) {
      String m = c.getMessage();
      if (m == null || m.isBlank()) {
        if (parts.isEmpty()) parts.add(c.getClass().getSimpleName());
        continue;
      }
      m = m.replaceAll("\\s*\\R\\s*", " ").strip();
      if (joined.contains(m)) continue; // wrappers often repeat their cause's message
      parts.add(m);
      joined = String.join(": ", parts);
    }
    return String.join(": ", parts);
  }
}
