package dev.ferry.cli.client;

import dev.ferry.api.Problem;

/** The one line a problem becomes on stderr: its detail, plus field/value/allowed when the detail lacks them. */
final class ProblemMessage {

  private ProblemMessage() {}

  static String of(Problem p) {
    String text = p.detail() != null && !p.detail().isBlank() ? p.detail()
        : p.title() != null ? p.title() : "error " + p.status();
    if (p.field() != null && !text.contains(p.field())) {
      StringBuilder b = new StringBuilder(text).append(" (field '").append(p.field()).append('\'');
      if (p.value() != null) b.append(", value '").append(p.value()).append('\'');
      if (p.allowed() != null) b.append(", allowed: ").append(p.allowed());
      text = b.append(')').toString();
    }
    // one line: the message is meant for `ferry: <message>` and for grep
    return text.replaceAll("\\s*\\R\\s*", " ").strip();
  }
}
