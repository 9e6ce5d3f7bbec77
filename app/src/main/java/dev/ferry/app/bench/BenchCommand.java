package dev.ferry.app.bench;

import dev.ferry.api.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ferry bench …}: speed goals are measured here, never in timed tests. Every report puts
 * Ferry next to a baseline measured in the same run, and states ratios.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure Ferry against a baseline in the same run and write a report.",
    subcommands = {BenchCommand.Storage.class, LiveCommand.class, LoadCommand.class, CopyCommand.class,
        FtCommand.class})
public final class BenchCommand {

  @Command(name = "storage", mixinStandardHelpOptions = true, description = "Live disk mirror of a running VM vs qemu-img convert of the same image (VM stopped), with the guest's write latency.")
  static final class Storage implements Callable<Integer> {

    @Option(names = "--size", defaultValue = "512", paramLabel = "MiB", description = "disk size in MiB (default ${DEFAULT-VALUE})")
    int sizeMib;

    @Option(names = "--write-rate", defaultValue = "4", paramLabel = "MiB/s", description = "the guest's disk write rate during the run (default ${DEFAULT-VALUE})")
    int writeRate;

    @Option(names = "--variants", defaultValue = "0,800,400,200,100,adaptive", split = ",", paramLabel = "MiB/s|adaptive",
        description = "mirror speed caps to run one after another on the same VM, 0 for none, adaptive for Ferry's"
            + " adaptive rate (default ${DEFAULT-VALUE})")
    List<String> variants;

    @Option(names = "--runs", defaultValue = "3", paramLabel = "N",
        description = "rounds of every variant; the report gives medians and the range (default ${DEFAULT-VALUE})")
    int runs;

    @Option(names = "--out", defaultValue = "docs/bench", paramLabel = "DIR", description = "where storage.md and storage.json go (default ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws Exception {
      List<StorageBench.Variant> parsed;
      try {
        parsed = variants.stream().map(StorageBench.Variant::parse).toList();
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(new CommandLine(this), "--variants takes speed caps in MiB/s (0 for none)"
            + " or 'adaptive': " + variants);
      }
      if (runs < 1) throw new CommandLine.ParameterException(new CommandLine(this), "--runs '" + runs + "' must be at least 1");
      if (sizeMib < 64) throw new CommandLine.ParameterException(new CommandLine(this), "--size '" + sizeMib + "' is too small: at least 64 MiB");
      String guest = System.getenv("FERRY_GUEST_DIR");
      if (guest == null || guest.isBlank()) {
        throw new CommandLine.ParameterException(new CommandLine(this), "FERRY_GUEST_DIR is not set: run it as ./ferry bench storage");
      }
      // a guest boot, the converts, a warm-up mirror, then per mirror: 6 s of baseline, the copy at its cap, a pivot
      // and a verification
      long estimateS = 90 + sizeMib / 50 + runs * parsed.stream().mapToLong(v -> (long) sizeMib / (v.capMibS() == 0 ? 400 : v.capMibS())
          + sizeMib / 200 + 10).sum();
      System.out.println("ferry bench storage: " + runs + " x " + parsed.size() + " mirrors of a " + sizeMib
          + " MiB disk, about " + estimateS + " s");
      // the agent runs QEMU as its own user, which must be able to pass through to the VM's run directory
      Path work = Files.createTempDirectory("ferry-bench", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
      Map<String, Object> report = new LinkedHashMap<>();
      report.put("bench", "storage");
      report.put("date", Instant.now().toString());
      report.put("cpus", Runtime.getRuntime().availableProcessors());
      try {
        report.putAll(new StorageBench(work, Path.of(guest), (long) sizeMib << 20, writeRate, parsed, runs, System.out).run());
      } finally {
        deleteTree(work);
      }
      Files.createDirectories(out);
      Files.writeString(out.resolve("storage.json"), Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(report) + "\n");
      Files.writeString(out.resolve("storage.md"), StorageReport.markdown(report));
      StoragePlot.write(report, out.resolve("storage-tradeoff.png"));
      System.out.println("report: " + out.resolve("storage.md"));
      return 0;
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
