package dev.ferry.app.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The warm part of {@code ferry bench copy}: one VM, its disk filled with the copy bench's data
 * (all of it but the region the guest's writer sweeps), moved through the product as a user moves
 * it ({@link LiveCluster}: a real controller, two enrolled agents, the CLI's own commands): first
 * cold ({@code ferry migrate cold --shutdown --start}), then warm back and forth {@code runs}
 * times ({@code ferry migrate warm --sync-interval 1s}, a manual cutover after 3 passes), while
 * the guest writes its disk at a low rate.
 *
 * <p>What it reports: cold's downtime and the time its copy took (the record's phases, polled
 * every 100 ms), each warm cutover's actual and predicted downtime (the records' {@code
 * downtime_ms} and {@code predicted_downtime_ms}) and the error of the prediction. The cold
 * migration comes first on purpose: it is the VM's first power-off, which the first warm
 * prediction then uses, as a user's VM that was shut down before.
 */
final class WarmBench {

  static final String VM = "bench-warm";
  /** MiB at the disk's start that the guest's writer sweeps (the rest holds the copy bench's data) */
  static final int SWEPT_MIB = 16;
  private static final int PASSES_BEFORE_CUTOVER = 3;

  private final Path work;
  private final Path guestDir;
  private final long diskBytes;
  private final int rateMibS;
  private final int runs;
  private final PrintStream log;
  private FerryCli ferry;

  WarmBench(Path work, Path guestDir, long diskBytes, int rateMibS, int runs, PrintStream log) {
    this.work = work;
    this.guestDir = guestDir;
    this.diskBytes = diskBytes;
    this.rateMibS = rateMibS;
    this.runs = runs;
    this.log = log;
  }

  /** Seconds it takes, roughly: boot, a cold move, and per warm run its passes, cutover and the guest's return. */
  static long estimateSeconds(long diskBytes, int runs) {
    long copyS = 2 + (diskBytes >> 20) / 100;
    return 30 + 20 + 2 * copyS + runs * (copyS + 3 * 2 + 10 + 15);
  }

  Map<String, Object> run() throws Exception {
    var r = new LinkedHashMap<String, Object>();
    r.put("loadavg_start", CopyBench.loadAverage());
    r.put("disk_bytes", diskBytes);
    r.put("swept_mib", SWEPT_MIB);
    r.put("write_rate_mib_s", rateMibS);
    r.put("runs", runs);
    r.put("passes_before_cutover", PASSES_BEFORE_CUTOVER);
    Path shared = Files.createDirectories(work.resolve("shared"));
    Path kernel = Files.copy(guestDir.resolve("vmlinuz"), shared.resolve("vmlinuz"));
    Path initrd = Files.copy(guestDir.resolve("initrd.img"), shared.resolve("initrd.img"));
    long b0 = System.nanoTime();
    long estimate = estimateSeconds(diskBytes, runs);
    try (LiveCluster c = LiveCluster.start(work, shared)) {
      ferry = c.ferry;
      for (String host : List.of(LiveCluster.A, LiveCluster.B)) {
        Path pool = Files.createDirectories(work.resolve(host + "-local"));
        ferry.run("pool", "create", "local", "--host", host, "--path", pool.toString());
      }
      try {
        progress(b0, estimate, "boot: vm " + VM + " on " + LiveCluster.A + ", its disk filled with data");
        boot(kernel, initrd);

        progress(b0, estimate, "cold: ferry migrate cold " + VM + " --to " + LiveCluster.B + " --shutdown --start");
        Map<String, Object> cold = follow(ferry.run("migrate", "cold", VM, "--to", LiveCluster.B, "--shutdown",
            "--start", "--detach").strip());
        r.put("cold", cold);
        log.printf("   cold: downtime %s ms, copy %s ms, shut down in %s ms (load %s)%n", cold.get("downtime_ms"),
            cold.get("copy_ms"), cold.get("shutdown_ms"), CopyBench.loadAverage());
        awaitWriting(LiveCluster.B);

        List<Map<String, Object>> warm = new ArrayList<>();
        String at = LiveCluster.B;
        for (int i = 1; i <= runs && !r.containsKey("error"); i++) {
          String to = at.equals(LiveCluster.A) ? LiveCluster.B : LiveCluster.A;
          progress(b0, estimate, "warm " + i + " of " + runs + ": ferry migrate warm " + VM + " --to " + to
              + " --sync-interval 1s, cutover after " + PASSES_BEFORE_CUTOVER + " passes");
          Map<String, Object> one;
          try {
            one = warmOnce(to);
          } catch (RuntimeException e) {
            // what was measured so far stays in the report, with why it stopped
            r.put("error", "warm run " + i + ": " + e.getMessage());
            log.println("   FAILED: " + e.getMessage());
            break;
          }
          one.put("run", i);
          warm.add(one);
          log.printf("   warm %d: predicted %s ms, actual %s ms (error %+.0f %%), %s passes (load %s)%n", i,
              one.get("predicted_downtime_ms"), one.get("downtime_ms"), one.get("prediction_error_pct"),
              one.get("passes"), CopyBench.loadAverage());
          at = to;
          awaitWriting(to);
        }
        r.put("warm_runs", warm);
        if (!warm.isEmpty()) summarize(r, cold, warm);
      } finally {
        quietly(() -> ferry.run("vm", "kill", VM));
        quietly(() -> ferry.run("vm", "delete", VM));
      }
    }
    r.put("loadavg_end", CopyBench.loadAverage());
    r.put("seconds", (System.nanoTime() - b0) / 1_000_000_000L);
    return r;
  }

  /** Defines the VM, fills its disk past the swept region with the copy bench's full-image pattern, boots it. */
  private void boot(Path kernel, Path initrd) throws Exception {
    ferry.run("vm", "create", VM, "--host", LiveCluster.A, "--memory", "256M", "--kernel", kernel.toString(),
        "--initrd", initrd.toString(), "--append", "console=ttyS0 panic=-1 quiet ferry.disk=" + rateMibS + ":"
            + SWEPT_MIB, "--disk", (diskBytes >> 20) + "M@local", "--no-start");
    JsonNode disk = ferry.json("vm", "show", VM).get("disks").get(0);
    long from = (long) SWEPT_MIB << 20;
    List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", disk.get("format").asText()));
    cmd.addAll(CopyBench.writes("0x5a", from, diskBytes - from));
    cmd.add(disk.get("path").asText());
    exec(cmd.toArray(String[]::new));
    ferry.run("vm", "start", VM);
    awaitWriting(LiveCluster.A);
  }

  /** One warm migration to {@code to}: passes, a manual cutover after the third, the record. */
  private Map<String, Object> warmOnce(String to) throws Exception {
    String id = ferry.run("migrate", "warm", VM, "--to", to, "--sync-interval", "1s", "--detach").strip();
    JsonNode m = await(id, n -> n.get("passes").asInt() >= PASSES_BEFORE_CUTOVER
        || !n.get("status").asText().equals("running"), 300);
    if (!m.get("status").asText().equals("running")) {
      throw new IllegalStateException("warm migration " + id + " ended before its cutover: " + m);
    }
    ferry.run("migration", "cutover", id);
    JsonNode done = await(id, n -> !n.get("status").asText().equals("running"), 300);
    if (!done.get("status").asText().equals("succeeded")) {
      throw new IllegalStateException("warm migration " + id + " did not succeed: " + done);
    }
    var out = new LinkedHashMap<String, Object>();
    out.put("migration_id", id);
    out.put("to", to);
    for (String f : List.of("passes", "copied_bytes", "skipped_bytes", "predicted_downtime_ms", "downtime_ms",
        "shutdown_ms", "verify_ms", "start_ms", "total_ms")) {
      JsonNode v = done.get(f);
      out.put(f, v == null || v.isNull() ? null : v.asLong());
    }
    long predicted = done.get("predicted_downtime_ms").asLong();
    long actual = done.get("downtime_ms").asLong();
    out.put("prediction_error_pct", Math.round((predicted - actual) * 1000.0 / actual) / 10.0);
    out.put("loadavg", CopyBench.loadAverage());
    return out;
  }

  /** Follows a cold migration to its end, timing its phases from the record (polled every 100 ms). */
  private Map<String, Object> follow(String id) throws Exception {
    var phases = new LinkedHashMap<String, Long>();
    String phase = null;
    long since = System.nanoTime();
    JsonNode m;
    while (true) {
      m = ferry.json("migration", "show", id);
      String now = m.get("phase").asText();
      if (!now.equals(phase)) {
        long t = System.nanoTime();
        if (phase != null) phases.merge(phase, TimeUnit.NANOSECONDS.toMillis(t - since), Long::sum);
        phase = now;
        since = t;
      }
      if (!m.get("status").asText().equals("running")) break;
      Thread.sleep(100);
    }
    if (!m.get("status").asText().equals("succeeded")) {
      throw new IllegalStateException("cold migration " + id + " did not succeed: " + m);
    }
    var out = new LinkedHashMap<String, Object>();
    out.put("migration_id", id);
    for (String f : List.of("downtime_ms", "total_ms", "shutdown_ms", "copied_bytes", "skipped_bytes")) {
      JsonNode v = m.get(f);
      out.put(f, v == null || v.isNull() ? null : v.asLong());
    }
    out.put("copy_ms", phases.getOrDefault("copying", 0L));
    out.put("phases_ms", phases);
    out.put("loadavg", CopyBench.loadAverage());
    return out;
  }

  private JsonNode await(String id, java.util.function.Predicate<JsonNode> until, int seconds) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      JsonNode m = ferry.json("migration", "show", id);
      if (until.test(m)) return m;
      if (System.nanoTime() > deadline) throw new IllegalStateException("migration " + id + " after " + seconds + " s: " + m);
      Thread.sleep(200);
    }
  }

  /** Waits until the guest on {@code host} printed two new disk status lines: it runs and writes. */
  private void awaitWriting(String host) throws Exception {
    Path console = LiveCluster.console(work, host, VM);
    long start = Files.exists(console) ? Files.size(console) : 0;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      String text = Files.exists(console) ? read(console, start) : "";
      if (text.contains("FERRY DISK-FATAL") || text.contains("FERRY DISK-ERROR")) {
        throw new IllegalStateException("the guest on " + host + " reports a disk error: " + text.strip());
      }
      if (text.split("FERRY DISK ", -1).length > 2) return;
      Thread.sleep(500);
    }
    throw new IllegalStateException("the guest on " + host + " did not write its disk within 120 s (" + console + ")");
  }

  private static String read(Path file, long from) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long len = f.length();
      if (len <= from) return "";
      byte[] b = new byte[(int) Math.min(len - from, 1 << 20)];
      f.seek(from);
      f.readFully(b);
      return new String(b, StandardCharsets.UTF_8);
    }
  }

  /** Medians and the two goals (issue 13): warm downtime within 0.05x of cold's copy, prediction within 25 %. */
  private static void summarize(Map<String, Object> r, Map<String, Object> cold, List<Map<String, Object>> warm) {
    long warmMedian = CopyBench.median(warm.stream().map(w -> (Long) w.get("downtime_ms")).toList());
    long predictedMedian = CopyBench.median(warm.stream().map(w -> (Long) w.get("predicted_downtime_ms")).toList());
    List<Double> errors = warm.stream().map(w -> (Double) w.get("prediction_error_pct")).sorted().toList();
    double errorMedian = errors.size() % 2 == 1 ? errors.get(errors.size() / 2)
        : (errors.get(errors.size() / 2 - 1) + errors.get(errors.size() / 2)) / 2;
    long coldCopy = ((Number) cold.get("copy_ms")).longValue();
    long coldDown = ((Number) cold.get("downtime_ms")).longValue();
    r.put("warm_downtime_median_ms", warmMedian);
    r.put("warm_predicted_median_ms", predictedMedian);
    r.put("prediction_error_median_pct", Math.round(errorMedian * 10) / 10.0);
    r.put("warm_vs_cold_copy", CopyBench.ratio(warmMedian, coldCopy));
    r.put("warm_vs_cold_downtime", CopyBench.ratio(warmMedian, coldDown));
    r.put("goal_warm_vs_cold_copy_met", warmMedian <= 0.05 * coldCopy);
    r.put("goal_prediction_met", Math.abs(errorMedian) <= 25);
  }

  private void progress(long b0, long estimate, String what) {
    long elapsed = (System.nanoTime() - b0) / 1_000_000_000L;
    log.printf("== warm part: %s (%d s so far, about %d s in all; load %s)%n", what, elapsed, estimate, loadQuietly());
  }

  private static String loadQuietly() {
    try {
      return CopyBench.loadAverage();
    } catch (IOException e) {
      return "?";
    }
  }

  private void quietly(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      log.println("   cleanup: " + e.getMessage());
    }
  }

  private static void exec(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out.strip());
  }
}
