package dev.ferry.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * A daemon's configuration file ({@code ferry agent --config FILE}, {@code ferry controller
 * --config FILE}). One setting per line, {@code key = value}, the key being the long option's name
 * without its dashes; {@code #} starts a comment line; blank lines are ignored:
 *
 * <pre>
 * # /etc/ferry/agent.conf
 * name = host1
 * listen = 10.0.0.11:7101
 * credential-file = /etc/ferry/agent.credential
 * </pre>
 *
 * A flag on the command line overrides the file's value. A key that is no option of the daemon,
 * or a key given twice, is refused naming it and its line: a typo must not be a silent default.
 */
final class ConfigFile {

  /** Options a file cannot set: they only make sense on a command line. */
  private static final Set<String> NOT_IN_FILES = Set.of("config", "help", "version");

  /** A file that cannot be used; {@code usage} when its content is wrong (exit 2), else unreadable (exit 1). */
  static final class Invalid extends RuntimeException {
    final boolean usage;

    Invalid(String message, boolean usage) {
      super(message);
      this.usage = usage;
    }
  }

  private ConfigFile() {}

  /** The settings of {@code file}, each checked against the options of {@code spec}. */
  static Map<String, String> read(Path file, CommandSpec spec) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw new Invalid("config file " + file + " cannot be read: " + (e.getMessage() == null ? e : e.getMessage())
          + (e instanceof java.nio.file.NoSuchFileException ? " (no such file)" : ""), false);
    }
    Set<String> known = new TreeSet<>();
    for (OptionSpec o : spec.options()) {
      String key = key(o);
      if (!NOT_IN_FILES.contains(key)) known.add(key);
    }
    Map<String, String> settings = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) continue;
      String where = file + ":" + (i + 1);
      int eq = line.indexOf('=');
      if (eq <= 0) throw new Invalid(where + ": '" + line + "' is not key = value", true);
      String key = line.substring(0, eq).strip();
      String value = line.substring(eq + 1).strip();
      if (!known.contains(key)) {
        throw new Invalid(where + ": unknown key '" + key + "' for ferry " + spec.name() + " (known: "
            + String.join(", ", known) + ")", true);
      }
      if (settings.putIfAbsent(key, value) != null) throw new Invalid(where + ": key '" + key + "' is set twice", true);
    }
    return settings;
  }

  /** The key of an option in a file: its long name without the dashes. */
  static String key(OptionSpec o) {
    return o.longestName().replaceFirst("^-+", "");
  }

  /** Makes the file's settings the defaults of {@code cmd}; flags on the command line still win. */
  static void apply(CommandLine cmd, Map<String, String> settings) {
    CommandLine.IDefaultValueProvider fallback = cmd.getDefaultValueProvider();
    cmd.setDefaultValueProvider(arg -> {
      if (arg instanceof OptionSpec o && settings.containsKey(key(o))) return settings.get(key(o));
      return fallback == null ? null : fallback.defaultValue(arg);
    });
  }
}
