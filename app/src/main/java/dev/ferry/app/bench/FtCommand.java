package dev.ferry.app.bench;

import dev.ferry.api.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry bench ft}: see {@link FtBench}. Needs Ferry's FT QEMU build: {@code ./ferry bench ft} makes it. */
@Command(name = "ft", mixinStandardHelpOptions = true,
    description = "Fault tolerance's cost and failover on one guest, same run: its memory writer's rate and a client's"
        + " request latency unprotected vs protected at each checkpoint interval, the checkpoint pause, then the primary"
        + " killed: the takeover as the client sees it and the re-protection on a third host.")
final class FtCommand implements Callable<Integer> {

  @Option(names = "--intervals", defaultValue = "100,500,2000", split = ",", paramLabel = "MS",
      description = "checkpoint intervals to measure, in milliseconds (default ${DEFAULT-VALUE})")
  List<Integer> intervals;

  @Option(names = "--window", defaultValue = "20", paramLabel = "S",
      description = "seconds measured per case (default ${DEFAULT-VALUE})")
  int windowS;

  @Option(names = "--from-json", paramLabel = "FILE", description = "only render ft.md again from an ft.json of an earlier run")
  Path fromJson;

  @Option(names = "--out", defaultValue = "docs/bench", paramLabel = "DIR", description = "where ft.md and ft.json go (default ${DEFAULT-VALUE})")
  Path out;

  @Override
  @SuppressWarnings("unchecked")
  public Integer call() throws Exception {
    if (fromJson != null) {
      Map<String, Object> report = Json.mapper().readValue(fromJson.toFile(), LinkedHashMap.class);
      write(report);
      return 0;
    }
    CommandLine cmd = new CommandLine(this);
    for (int i : intervals) {
      if (i < 100 || i > 60_000) throw new CommandLine.ParameterException(cmd, "--intervals '" + i + "' must be 100..60000 ms");
    }
    if (windowS < 5 || windowS > 600) throw new CommandLine.ParameterException(cmd, "--window '" + windowS + "' must be 5..600 s");
    String guest = System.getenv("FERRY_GUEST_DIR");
    String ftQemu = System.getenv("FERRY_FT_QEMU");
    if (guest == null || guest.isBlank() || ftQemu == null || ftQemu.isBlank()) {
      throw new CommandLine.ParameterException(cmd, "FERRY_GUEST_DIR and FERRY_FT_QEMU must be set: run it as ./ferry bench ft");
    }
    // three agents probing the FT build, a guest boot, then per case an enable, settling and the window, then the failover
    long estimateS = 60 + 2 * (intervals.size() + 1) * (windowS + 12L) + 40;
    System.out.println("ferry bench ft: unprotected and " + intervals.size() + " checkpoint intervals, " + windowS
        + " s each, the network quiet then a client streaming, then a failover and re-protection; about " + estimateS
        + " s");
    Path work = Files.createTempDirectory("ferry-bench-ft", PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwx--x--x")));
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("bench", "ft");
    report.put("date", Instant.now().toString());
    report.put("cpus", Runtime.getRuntime().availableProcessors());
    long t0 = System.nanoTime();
    try {
      report.putAll(new FtBench(work, Path.of(guest), Path.of(ftQemu), intervals, Duration.ofSeconds(windowS), System.out)
          .run());
    } finally {
      BenchCommand.deleteTree(work);
    }
    report.put("bench_seconds", Duration.ofNanos(System.nanoTime() - t0).toSeconds());
    report.put("command", "./ferry bench ft --intervals " + String.join(",", intervals.stream().map(String::valueOf)
        .toList()) + " --window " + windowS);
    write(report);
    return 0;
  }

  private void write(Map<String, Object> report) throws java.io.IOException {
    Files.createDirectories(out);
    Files.writeString(out.resolve("ft.json"), Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(report) + "\n");
    Files.writeString(out.resolve("ft.md"), FtReport.markdown(report));
    System.out.println("report: " + out.resolve("ft.md"));
  }
}
