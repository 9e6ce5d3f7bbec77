package dev.ferry.testsupport;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One line the workload program prints on the serial console (guest/README.md lists them). Every
 * line starts with {@code FERRY <KIND>} and carries key=value fields.
 */
public sealed interface GuestLine {

  record Ready(String boot, String workloads) implements GuestLine {}

  /** {@code monoMs}: the guest's CLOCK_MONOTONIC in milliseconds when it printed the line; -1 from an older guest. */
  record Heartbeat(String boot, long seq, long monoMs) implements GuestLine {}

  /** The guest kernel's clocksource, printed once before the first heartbeat. */
  record Clock(String source) implements GuestLine {}

  record MemStatus(long gen, double rate, long errors) implements GuestLine {}

  record MemError(String raw) implements GuestLine {}

  /** {@code latUs}/{@code maxLatUs}: the guest's mean and worst write latency over the last second. */
  record DiskStatus(long gen, long block, double rate, long errors, double latUs, double maxLatUs) implements GuestLine {}

  record DiskError(String raw) implements GuestLine {}

  record DiskCheck(boolean ok, String raw) implements GuestLine {}

  static Optional<GuestLine> parse(String line) {
    int at = line.indexOf("FERRY ");
    if (at < 0) return Optional.empty();
    String[] words = line.substring(at).strip().split("\\s+");
    if (words.length < 2) return Optional.empty();
    Map<String, String> f = new HashMap<>();
    for (int i = 2; i < words.length; i++) {
      int eq = words[i].indexOf('=');
      if (eq > 0) f.put(words[i].substring(0, eq), words[i].substring(eq + 1));
    }
    try {
      return Optional.ofNullable(switch (words[1]) {
        case "READY" -> new Ready(f.get("boot"), f.getOrDefault("workloads", ""));
        case "HB" -> new Heartbeat(f.get("boot"), Long.parseLong(f.get("seq")),
            Long.parseLong(f.getOrDefault("mono_ms", "-1")));
        case "CLOCK" -> new Clock(f.get("source"));
        case "MEM" -> new MemStatus(Long.parseLong(f.get("gen")), rate(f), Long.parseLong(f.get("errors")));
        case "MEM-ERROR" -> new MemError(line.substring(at));
        case "DISK" -> new DiskStatus(Long.parseLong(f.get("gen")), Long.parseLong(f.getOrDefault("block", "0")),
            rate(f), Long.parseLong(f.get("errors")), Double.parseDouble(f.getOrDefault("lat_us", "0")),
            Double.parseDouble(f.getOrDefault("maxlat_us", "0")));
        case "DISK-ERROR" -> new DiskError(line.substring(at));
        case "DISKCHECK" -> words.length > 2 && (words[2].equals("ok") || words[2].equals("failed"))
            ? new DiskCheck(words[2].equals("ok"), line.substring(at)) : null;
        default -> null;
      });
    } catch (RuntimeException e) {
      // a line cut by the console (the guest was paused mid-write) is not a workload report
      return Optional.empty();
    }
  }

  private static double rate(Map<String, String> f) {
    return Double.parseDouble(f.getOrDefault("rate", "0").replace("MiB/s", ""));
  }
}
