package dev.ferry.app.bench;

import dev.ferry.api.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry bench live}: see {@link LiveBench}. */
@Command(name = "live", mixinStandardHelpOptions = true, description = "Live migration of a 256 MiB guest between two local agents: ferry migrate live through a local controller against the defaults of libvirt, Proxmox VE, KubeVirt and OpenStack Nova applied through the same agents (and optionally raw QEMU defaults and Ferry's parameters alone), idle and under memory writers, several runs per cell.")
final class LiveCommand implements Callable<Integer> {

  @Option(names = "--seconds-limit", defaultValue = "30", paramLabel = "S", description = "cancel a migration not completed after this many seconds (default ${DEFAULT-VALUE})")
  int secondsLimit;

  @Option(names = "--workloads", split = ",", paramLabel = "W[,W...]", defaultValue = "idle,hot-16,mem-64,mem-200,noconv",
      description = "which workloads to run, in order (default ${DEFAULT-VALUE})")
  List<String> workloads;

  @Option(names = "--methods", split = ",", paramLabel = "M[,M...]", defaultValue = "ferry,libvirt,proxmox,kubevirt,nova",
      description = "which methods to run per workload, in order, of ferry, libvirt, proxmox, kubevirt, nova, raw, ferry-params (default ${DEFAULT-VALUE})")
  List<String> methods;

  @Option(names = "--runs", defaultValue = "3", paramLabel = "N", description = "runs per workload and method, interleaved (default ${DEFAULT-VALUE})")
  int runs;

  @Option(names = "--out", defaultValue = "docs/bench", paramLabel = "DIR", description = "where live.md and live.json go (default ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--from-json", paramLabel = "FILE",
      description = "run nothing: write live.md and live-passes.png again from a run's live.json, its medians recomputed from its runs")
  Path fromJson;

  @Override
  @SuppressWarnings("unchecked")
  public Integer call() throws Exception {
    if (fromJson != null) {
      Map<String, Object> report = Json.mapper().readValue(fromJson.toFile(), LinkedHashMap.class);
      for (Map<String, Object> w : (List<Map<String, Object>>) report.get("workloads")) LiveStats.summarize(w);
      Files.createDirectories(out);
      Files.writeString(out.resolve("live.json"), Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(report) + "\n");
      LivePlot.write(report, out.resolve("live-passes.png"));
      Files.writeString(out.resolve("live.md"), LiveReport.markdown(report));
      System.out.println("report: " + out.resolve("live.md"));
      return 0;
    }
    if (secondsLimit < 5 || secondsLimit > 600) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--seconds-limit '" + secondsLimit + "': 5 to 600 seconds");
    }
    if (runs < 1 || runs > 20) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--runs '" + runs + "': 1 to 20");
    }
    List<LiveBench.Workload> ws;
    List<LiveBench.Method> ms;
    try {
      ws = workloads.stream().map(LiveBench::workload).toList();
      ms = methods.stream().map(LiveBench.Method::of).toList();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
    }
    String guest = System.getenv("FERRY_GUEST_DIR");
    if (guest == null || guest.isBlank()) {
      throw new CommandLine.ParameterException(new CommandLine(this), "FERRY_GUEST_DIR is not set: run it as ./ferry bench live");
    }
    System.out.printf("ferry bench live: %d workloads x %d methods x %d runs, about %d s%n", ws.size(), ms.size(), runs,
        LiveBench.estimateSeconds(ws, ms.size(), runs, secondsLimit));
    // the agents run QEMU as an unprivileged user, who must be able to pass through to the run directories
    Path work = Files.createTempDirectory("ferry-bench-live",
        java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x")));
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("bench", "live");
    report.put("date", Instant.now().toString());
    report.put("cpus", Runtime.getRuntime().availableProcessors());
    report.put("command", "./ferry bench live --runs " + runs + " --seconds-limit " + secondsLimit + " --workloads "
        + String.join(",", workloads) + " --methods " + String.join(",", methods));
    long t0 = System.nanoTime();
    try {
      report.putAll(new LiveBench(work, Path.of(guest), secondsLimit, runs, ws, ms, System.out).run());
    } finally {
      BenchCommand.deleteTree(work);
    }
    report.put("bench_seconds", (System.nanoTime() - t0) / 1_000_000_000L);
    Files.createDirectories(out);
    Files.writeString(out.resolve("live.json"), Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(report) + "\n");
    LivePlot.write(report, out.resolve("live-passes.png"));
    Files.writeString(out.resolve("live.md"), LiveReport.markdown(report));
    System.out.println("report: " + out.resolve("live.md"));
    return 0;
  }
}
