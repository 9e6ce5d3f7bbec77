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

/** {@code ferry bench copy}: see {@link CopyBench}. */
@Command(name = "copy", mixinStandardHelpOptions = true,
    description = "Ferry's cold copier vs qemu-img convert vs nbdcopy, reading the same image from the same NBD export: a full and a sparse image, medians of several runs;"
        + " then warm vs cold migration of one VM whose disk holds the full image's data (real controller and two agents): warm cutover downtime vs cold's copy, predicted vs actual downtime.")
final class CopyCommand implements Callable<Integer> {

  @Option(names = "--size", defaultValue = "1024", paramLabel = "MiB", description = "the full image's size, all data (default ${DEFAULT-VALUE})")
  int sizeMib;

  @Option(names = "--sparse-size", defaultValue = "2048", paramLabel = "MiB", description = "the sparse image's size (default ${DEFAULT-VALUE})")
  int sparseMib;

  @Option(names = "--sparse-data", defaultValue = "64", paramLabel = "MiB", description = "data in the sparse image, in two extents (default ${DEFAULT-VALUE})")
  int sparseDataMib;

  @Option(names = "--runs", defaultValue = "3", paramLabel = "N", description = "timed copies per tool and image (default ${DEFAULT-VALUE})")
  int runs;

  @Option(names = "--warm-runs", defaultValue = "3", paramLabel = "N", description = "warm migrations of the warm part,"
      + " after one cold one of the same VM and disk (--size); 0 skips the warm part (default ${DEFAULT-VALUE})")
  int warmRuns;

  @Option(names = "--warm-size", split = ",", paramLabel = "MiB", description = "the warm part's disk sizes, e.g."
      + " 1024,4096: one cold and --warm-runs warm migrations for each (default: --size). Warm's cutover costs about"
      + " the same whatever the disk, cold's copy grows with it: the ratio of the two depends on the size")
  java.util.List<Integer> warmSizes;

  @Option(names = "--warm-rate", defaultValue = "1", paramLabel = "MiB/s", description = "the guest's disk write rate"
      + " during the warm part (default ${DEFAULT-VALUE})")
  int warmRate;

  @Option(names = "--from-json", paramLabel = "FILE", description = "only render copy.md again from a copy.json of an earlier run")
  Path fromJson;

  @Option(names = "--out", defaultValue = "docs/bench", paramLabel = "DIR", description = "where copy.md and copy.json go (default ${DEFAULT-VALUE})")
  Path out;

  @Override
  @SuppressWarnings("unchecked")
  public Integer call() throws Exception {
    if (fromJson != null) {
      Map<String, Object> report = Json.mapper().readValue(fromJson.toFile(), LinkedHashMap.class);
      Files.createDirectories(out);
      Files.writeString(out.resolve("copy.md"), CopyReport.markdown(report));
      System.out.println("report: " + out.resolve("copy.md"));
      return 0;
    }
    CommandLine cmd = new CommandLine(this);
    if (sizeMib < 64) throw new CommandLine.ParameterException(cmd, "--size '" + sizeMib + "' is too small: at least 64 MiB");
    if (sparseDataMib < 2 || sparseDataMib > sparseMib / 2) {
      throw new CommandLine.ParameterException(cmd, "--sparse-data '" + sparseDataMib + "' must be 2.." + sparseMib / 2
          + " MiB (at most half of --sparse-size)");
    }
    if (runs < 1) throw new CommandLine.ParameterException(cmd, "--runs '" + runs + "' must be at least 1");
    if (warmRuns < 0 || warmRuns > 20) throw new CommandLine.ParameterException(cmd, "--warm-runs '" + warmRuns + "' must be 0..20");
    if (warmRate < 1 || warmRate > 64) throw new CommandLine.ParameterException(cmd, "--warm-rate '" + warmRate + "' must be 1..64 MiB/s");
    java.util.List<Integer> sizes = warmSizes == null || warmSizes.isEmpty() ? java.util.List.of(sizeMib) : warmSizes;
    for (int s : sizes) {
      if (s < 64 || s > 65536) throw new CommandLine.ParameterException(cmd, "--warm-size '" + s + "' must be 64..65536 MiB");
    }
    String guest = System.getenv("FERRY_GUEST_DIR");
    if (warmRuns > 0 && (guest == null || guest.isBlank())) {
      throw new CommandLine.ParameterException(cmd, "FERRY_GUEST_DIR is not set: run it as ./ferry bench copy (or --warm-runs 0)");
    }
    // per image: writing it, a warm-up, then per run three copies and three compares, at ~150 MiB/s on a busy machine
    long estimateS = 10 + sizeMib / 100 + (runs * 3L + 1) * (2L * sizeMib / 150 + 2) + (runs * 3L + 1) * 3;
    if (warmRuns > 0) for (int s : sizes) estimateS += WarmBench.estimateSeconds((long) s << 20, warmRuns);
    System.out.println("ferry bench copy: " + sizeMib + " MiB full and " + sparseMib + " MiB sparse image, " + runs
        + " runs of 3 tools each" + (warmRuns > 0 ? ", then 1 cold and " + warmRuns + " warm migrations of a VM with a "
        + sizes.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(" and a ")) + " MiB disk" : "")
        + ", about " + estimateS + " s");
    Path work = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "ferry-bench-copy");
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("bench", "copy");
    report.put("date", Instant.now().toString());
    report.put("cpus", Runtime.getRuntime().availableProcessors());
    try {
      report.putAll(new CopyBench(work, (long) sizeMib << 20, (long) sparseMib << 20, (long) sparseDataMib << 20, runs,
          System.out).run());
    } finally {
      BenchCommand.deleteTree(work);
    }
    if (warmRuns > 0) {
      var parts = new java.util.ArrayList<Map<String, Object>>();
      for (int s : sizes) parts.add(warmPart(Path.of(guest), s));
      // one size keeps the report's single-part shape, which --from-json renders for older runs too
      report.put("warm", parts.size() == 1 ? parts.getFirst() : parts);
    }
    report.put("command", "./ferry bench copy --size " + sizeMib + " --sparse-size " + sparseMib + " --sparse-data "
        + sparseDataMib + " --runs " + runs + " --warm-runs " + warmRuns + " --warm-rate " + warmRate
        + (warmSizes == null || warmSizes.isEmpty() ? "" : " --warm-size " + sizes.stream().map(String::valueOf)
        .collect(java.util.stream.Collectors.joining(","))));
    Files.createDirectories(out);
    Files.writeString(out.resolve("copy.json"), Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(report) + "\n");
    Files.writeString(out.resolve("copy.md"), CopyReport.markdown(report));
    System.out.println("report: " + out.resolve("copy.md"));
    return 0;
  }

  /** One cold and --warm-runs warm migrations of a VM with a {@code sizeMib} disk; a failure is kept as its error. */
  private Map<String, Object> warmPart(Path guest, int sizeMib) throws java.io.IOException {
    // the agents run QEMU as an unprivileged user, who must be able to pass through to the run directories
    Path warmWork = Files.createTempDirectory("ferry-bench-warm", java.nio.file.attribute.PosixFilePermissions
        .asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x")));
    try {
      return new WarmBench(warmWork, guest, (long) sizeMib << 20, warmRate, warmRuns, System.out).run();
    } catch (Exception e) {
      // the copy part's figures are kept; the report says why this warm part has none
      System.out.println("the warm part (" + sizeMib + " MiB) failed: " + e);
      return new LinkedHashMap<>(Map.of("error", String.valueOf(e.getMessage()), "disk_bytes", (long) sizeMib << 20));
    } finally {
      BenchCommand.deleteTree(warmWork);
    }
  }
}
