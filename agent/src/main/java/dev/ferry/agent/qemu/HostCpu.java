package dev.ferry.agent.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.agent.Subprocess;
import dev.ferry.api.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What this host's CPU offers a guest, reported in heartbeats so that the controller can refuse a
 * live migration to a host that lacks a feature the guest may be using: the CPU's flags from
 * {@code /proc/cpuinfo} (what {@code -cpu host} passes on) and the named QEMU CPU models this
 * QEMU can run under the chosen accelerator without dropping a feature.
 */
public record HostCpu(List<String> flags, List<String> usableModels) {

  private static final Logger log = LoggerFactory.getLogger(HostCpu.class);

  public HostCpu {
    flags = List.copyOf(flags);
    usableModels = List.copyOf(usableModels);
  }

  public static HostCpu detect(QemuInstallation qemu, Accelerator accel) {
    return new HostCpu(flags(Path.of("/proc/cpuinfo")), usableModels(qemu, accel));
  }

  /** The flags of the first processor in a {@code /proc/cpuinfo}, sorted; empty when unreadable. */
  static List<String> flags(Path cpuinfo) {
    try {
      return parseFlags(Files.readString(cpuinfo));
    } catch (IOException e) {
      log.warn("cannot read {}: {}; migration preflights will not know this host's cpu flags", cpuinfo, e.getMessage());
      return List.of();
    }
  }

  static List<String> parseFlags(String cpuinfo) {
    for (String line : cpuinfo.lines().toList()) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).strip().equals("flags")) {
        return List.copyOf(new TreeSet<>(Arrays.asList(line.substring(colon + 1).strip().split("\\s+"))));
      }
    }
    return List.of();
  }

  /**
   * {@code query-cpu-definitions} of a QEMU started with {@code -machine none} under {@code accel}:
   * the models whose {@code unavailable-features} is empty. Empty when QEMU does not answer.
   */
  static List<String> usableModels(QemuInstallation qemu, Accelerator accel) {
    Path script;
    try {
      script = Files.createTempFile("ferry-cpu-models", ".qmp");
      Files.writeString(script, """
          {"execute":"qmp_capabilities"}
          {"execute":"query-cpu-definitions"}
          {"execute":"quit"}
          """);
    } catch (IOException e) {
      log.warn("cannot list cpu models: {}", e.getMessage());
      return List.of();
    }
    try {
      // sh feeds the commands on stdin: Subprocess keeps stdin at /dev/null
      Subprocess.Result r = Subprocess.run(List.of("sh", "-c", "exec \"$0\" -accel " + accel.qemuName()
          + " -machine none -nodefaults -no-user-config -display none -qmp stdio < \"$1\"", qemu.systemBinary().toString(),
          script.toString()), Duration.ofSeconds(20));
      return parseUsable(r.out());
    } catch (RuntimeException e) {
      log.warn("cannot list cpu models of {} under {}: {}", qemu.systemBinary(), accel.qemuName(), e.getMessage());
      return List.of();
    } finally {
      try {
        Files.deleteIfExists(script);
      } catch (IOException e) {
        log.debug("cannot remove {}", script);
      }
    }
  }

  static List<String> parseUsable(String qmpOutput) {
    var usable = new TreeSet<String>();
    for (String line : qmpOutput.lines().toList()) {
      if (!line.startsWith("{")) continue;
      try {
        JsonNode ret = Json.mapper().readTree(line).get("return");
        if (ret == null || !ret.isArray()) continue;
        for (JsonNode def : ret) {
          JsonNode missing = def.get("unavailable-features");
          if (missing != null && missing.isArray() && missing.isEmpty()) usable.add(def.get("name").asText());
        }
      } catch (IOException e) {
        // not a QMP reply line (QEMU may print warnings on the same stream)
      }
    }
    return new ArrayList<>(usable);
  }
}
