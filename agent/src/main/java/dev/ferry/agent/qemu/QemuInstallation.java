package dev.ferry.agent.qemu;

import dev.ferry.agent.Subprocess;
import java.time.Duration;
import dev.ferry.agent.AgentException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The QEMU binaries of this host and what they support. Read once; a QEMU upgrade under a
 * running agent is picked up at the agent's next start.
 */
public record QemuInstallation(Path systemBinary, Path imgBinary, QemuVersion version, List<String> machineTypes) {

  private static final Pattern ALIAS = Pattern.compile("^(\\S+)\\s+.*\\(alias of (\\S+)\\)");

  public QemuInstallation {
    machineTypes = List.copyOf(machineTypes);
  }

  /** Finds qemu-system-x86_64 and qemu-img on PATH (or FERRY_QEMU / FERRY_QEMU_IMG). */
  public static QemuInstallation detect() {
    Path system = which(System.getenv().getOrDefault("FERRY_QEMU", "qemu-system-x86_64"));
    Path img = which(System.getenv().getOrDefault("FERRY_QEMU_IMG", "qemu-img"));
    return detect(system, img);
  }

  /** The installation of the emulator {@code system} (e.g. Ferry's FT build) with {@code img}. */
  public static QemuInstallation detect(Path system, Path img) {
    QemuVersion version = QemuVersion.parse(run(system, "--version"));
    List<String> machines = run(system, "-machine", "help").lines().skip(1).map(String::strip).toList();
    return new QemuInstallation(system, img, version, machines);
  }

  /**
   * Turns an alias such as {@code q35} into the versioned type it stands for today, so that a
   * migration target built by a newer QEMU still gets the same device model.
   */
  public String resolveMachineType(String requested) {
    for (String line : machineTypes) {
      Matcher m = ALIAS.matcher(line);
      if (m.find() && m.group(1).equals(requested)) return m.group(2);
    }
    for (String line : machineTypes) {
      if (line.split("\\s+")[0].equals(requested)) return requested;
    }
    throw new AgentException(AgentException.Kind.INVALID,
        "machine type '" + requested + "' is not supported by qemu " + version + " at " + systemBinary);
  }

  private static Path which(String name) {
    if (name.contains("/")) {
      Path p = Path.of(name);
      if (Files.isExecutable(p)) return p;
    } else {
      for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
        Path p = Path.of(dir, name);
        if (Files.isExecutable(p)) return p;
      }
    }
    throw new AgentException(AgentException.Kind.UNAVAILABLE,
        name + " not found on PATH; install the Debian packages qemu-system-x86 and qemu-utils");
  }

  static String run(Path binary, String... args) {
    var cmd = new ArrayList<String>();
    cmd.add(binary.toString());
    cmd.addAll(List.of(args));
    Subprocess.Result r = Subprocess.run(cmd, Duration.ofSeconds(30));
    if (r.exit() != 0) {
      throw new AgentException(AgentException.Kind.UNAVAILABLE, String.join(" ", cmd) + " failed (exit " + r.exit() + "): "
          + r.out());
    }
    return r.out();
  }
}
