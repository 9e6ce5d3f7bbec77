package dev.ferry.app.bench;

import dev.ferry.api.Durations;
import dev.ferry.api.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry bench load}: see {@link LoadBench}. Loopback only, bounded by --duration. */
@Command(name = "load", mixinStandardHelpOptions = true, description = "Simulated hosts heartbeating a real controller process on loopback, with SSE clients, "
    + "GET /api/vms timings and a burst of live migrations to one target; reports flaps, latencies, store and log sizes.")
final class LoadCommand implements Callable<Integer> {

  @Option(names = "--hosts", defaultValue = "50", paramLabel = "N", description = "simulated hosts (default ${DEFAULT-VALUE})")
  int hosts;

  @Option(names = "--vms-per-host", defaultValue = "200", paramLabel = "N", description = "VMs per host (default ${DEFAULT-VALUE})")
  int vmsPerHost;

  @Option(names = "--interval", defaultValue = "2s", paramLabel = "DURATION", description = "heartbeat interval (default ${DEFAULT-VALUE})")
  String interval;

  @Option(names = "--duration", defaultValue = "3m", paramLabel = "DURATION", description = "how long the load runs, at most 30m (default ${DEFAULT-VALUE})")
  String duration;

  @Option(names = "--host-timeout", defaultValue = "10s", paramLabel = "DURATION", description = "the controller's --host-timeout (default ${DEFAULT-VALUE})")
  String hostTimeout;

  @Option(names = "--event-max-count", defaultValue = "2000", paramLabel = "N",
      description = "the controller's event cap, small so that pruning runs during the bench (default ${DEFAULT-VALUE})")
  long eventMaxCount;

  @Option(names = "--migrations", defaultValue = "10", paramLabel = "N", description = "concurrent live-migration requests (default ${DEFAULT-VALUE})")
  int migrations;

  @Option(names = "--no-tls", description = "plain HTTP instead of HTTPS with a cluster CA of the bench's own")
  boolean noTls;

  @Option(names = "--out", defaultValue = "docs/bench", paramLabel = "DIR", description = "where load.md and load.json go (default ${DEFAULT-VALUE})")
  Path out;

  @Override
  public Integer call() throws Exception {
    LoadBench.Settings settings;
    try {
      settings = new LoadBench.Settings(hosts, vmsPerHost, Durations.parsePositive("--interval", interval),
          Durations.parsePositive("--duration", duration), Durations.parsePositive("--host-timeout", hostTimeout),
          eventMaxCount, migrations, !noTls);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
    }
    Map<String, Object> report = run(settings, System.out);
    Files.createDirectories(out);
    Files.writeString(out.resolve("load.json"), Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(report) + "\n");
    Files.writeString(out.resolve("load.md"), LoadReport.markdown(report));
    System.out.println("report: " + out.resolve("load.md"));
    return 0;
  }

  /** Runs the bench in a temporary directory (removed after) and returns the report. */
  static Map<String, Object> run(LoadBench.Settings settings, java.io.PrintStream log) throws Exception {
    Path work = Files.createTempDirectory("ferry-bench-load");
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("bench", "load");
    report.put("date", Instant.now().toString());
    report.put("cpus", Runtime.getRuntime().availableProcessors());
    long t0 = System.nanoTime();
    try {
      report.putAll(new LoadBench(work, settings, log).run());
    } finally {
      BenchCommand.deleteTree(work);
    }
    report.put("bench_seconds", Duration.ofNanos(System.nanoTime() - t0).toSeconds());
    return report;
  }
}
