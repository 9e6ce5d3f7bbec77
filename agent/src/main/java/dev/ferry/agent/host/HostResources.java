package dev.ferry.agent.host;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What this machine offers to guests. {@code --cpus} and {@code --memory} override the real
 * figures so that several agents on one machine can stand in for smaller hosts.
 */
public record HostResources(int cpus, long memoryBytes) {

  private static final Pattern MEM_TOTAL = Pattern.compile("(?m)^MemTotal:\\s+(\\d+)\\s+kB");

  public HostResources {
    if (cpus < 1) throw new IllegalArgumentException("cpus " + cpus + " must be at least 1");
    if (memoryBytes < 1) throw new IllegalArgumentException("memory " + memoryBytes + " bytes must be positive");
  }

  /** The machine's figures unless overridden; a null override means "the machine's". */
  public static HostResources detect(Integer cpus, Long memoryBytes) {
    int c = cpus != null ? cpus : Runtime.getRuntime().availableProcessors();
    long m = memoryBytes != null ? memoryBytes : memTotal(Path.of("/proc/meminfo"));
    return new HostResources(c, m);
  }

  static long memTotal(Path meminfo) {
    try {
      Matcher m = MEM_TOTAL.matcher(Files.readString(meminfo));
      if (m.find()) return Long.parseLong(m.group(1)) * 1024;
      throw new AgentException(Kind.INTERNAL, "no MemTotal line in " + meminfo + "; pass --memory");
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot read " + meminfo + ": " + e.getMessage() + "; pass --memory", e);
    }
  }
}
