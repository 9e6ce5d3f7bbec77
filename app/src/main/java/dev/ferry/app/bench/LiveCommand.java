package dev.ferry.app.bench;

import dev.ferry.api.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry bench live}: see {@link LiveBench}. */
@Command(name = "live", mixinStandardHelpOptions = true, description = "Live migration of a 256 MiB guest between two local agents: raw QEMU defaults vs Ferry's policy vs Ferry's parameters alone, idle and under memory writers.")
final class LiveCommand implements Callable<Integer> {

  @Option(names = "--seconds-limit", defaultValue = "30", paramLabel = "S", description = "cancel a migration not completed after this many seconds (default ${DEFAULT-VALUE})")
  int secondsLimit;

  @Option(names = "--out", defaultValue = "docs/bench", paramLabel = "DIR", description = "where live.md and live.json go (default ${DEFAULT-VALUE})")
  Path out;

  @Override
  public Integer call() throws Exception {
    if (secondsLimit < 5 || secondsLimit > 600) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--seconds-limit '" + secondsLimit + "': 5 to 600 seconds");
    }
    String guest = System.getenv("FERRY_GUEST_DIR");
    if (guest == null || guest.isBlank()) {
      throw new CommandLine.ParameterException(new CommandLine(this), "FERRY_GUEST_DIR is not set: run it as ./ferry bench live");
    }
    Path work = Files.createTempDirectory("ferry-bench-live");
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("bench", "live");
    report.put("date", Instant.now().toString());
    report.put("cpus", Runtime.getRuntime().availableProcessors());
    long t0 = System.nanoTime();
    try {
      report.putAll(new LiveBench(work, Path.of(guest), secondsLimit, System.out).run());
    } finally {
      BenchCommand.deleteTree(work);
    }
    report.put("bench_seconds", (System.nanoTime() - t0) / 1_000_000_000L);
    Files.createDirectories(out);
    Files.writeString(out.resolve("live.json"), Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(report) + "\n");
    Files.writeString(out.resolve("live.md"), LiveReport.markdown(report));
    System.out.println("report: " + out.resolve("live.md"));
    return 0;
  }
}
