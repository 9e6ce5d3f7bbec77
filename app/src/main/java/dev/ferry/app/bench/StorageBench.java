package dev.ferry.app.bench;

import dev.ferry.agent.Agent;
import dev.ferry.agent.AgentConfig;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentPoolRequest;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.HostAgent;
import dev.ferry.api.agent.MirrorRequest;
import dev.ferry.api.agent.MirrorState;
import dev.ferry.api.agent.MirrorStatus;
import dev.ferry.api.agent.VerifyResult;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Storage migration, measured: Ferry's live mirror of a running VM's disk next to an offline
 * {@code qemu-img convert} of the same image, in the same run, with the guest's own write
 * latency before and during the mirror. The mirror goes through a real agent's HTTP API, so it
 * measures the code a user runs.
 */
final class StorageBench {

  static final long GUEST_REGION = 16L << 20;

  /** One way to run the mirror: a fixed speed cap (0 for none) or Ferry's adaptive rate. */
  record Variant(int capMibS, boolean adaptive) {

    static final String ADAPTIVE = "adaptive";

    /** {@code 0}, a cap in MiB/s, or {@code adaptive}. */
    static Variant parse(String text) {
      if (text.strip().equals(ADAPTIVE)) return new Variant(0, true);
      int cap = Integer.parseInt(text.strip());
      if (cap < 0) throw new IllegalArgumentException("a speed cap is 0 (none) or more MiB/s: " + cap);
      return new Variant(cap, false);
    }

    String text() {
      return adaptive ? ADAPTIVE : Integer.toString(capMibS);
    }

    String label() {
      return adaptive ? "adaptive" : capMibS == 0 ? "none" : capMibS + " MiB/s";
    }
  }

  private final Path work;
  private final Path guestDir;
  private final long sizeBytes;
  private final int writeRateMibS;
  private final List<Variant> variants;
  private final int runs;
  private final PrintStream log;

  StorageBench(Path work, Path guestDir, long sizeBytes, int writeRateMibS, List<Variant> variants, int runs,
      PrintStream log) {
    this.work = work;
    this.guestDir = guestDir;
    this.sizeBytes = sizeBytes;
    this.writeRateMibS = writeRateMibS;
    this.variants = List.copyOf(variants);
    this.runs = runs;
    this.log = log;
  }

  Map<String, Object> run() throws Exception {
    Path src = Files.createDirectories(work.resolve("src"));
    Path dst = Files.createDirectories(work.resolve("dst"));
    Path image = src.resolve("bench-disk0.qcow2");
    log.println("preparing a " + (sizeBytes >> 20) + " MiB qcow2 image full of data");
    makeImage(image);

    var r = new LinkedHashMap<String, Object>();
    r.put("loadavg_start", loadAverage());
    r.put("size_bytes", sizeBytes);
    r.put("guest_write_rate_mib_s", writeRateMibS);
    // -t writeback: the copy ends with an fdatasync, durable as the mirror's O_DIRECT writes are when it is ready;
    // qemu-img's default cache mode (unsafe) never flushes (strace: no fdatasync), and 1 GiB then ends in the page
    // cache: that one runs too, as a column of its own outside the goal
    long cold = convert(image, dst.resolve("convert-cold.qcow2"), "-t", "writeback");
    var warm = new ArrayList<Long>();
    for (int i = 0; i < Math.max(3, runs); i++) warm.add(convert(image, dst.resolve("convert-warm.qcow2"), "-t", "writeback"));
    long warmMedian = (long) StorageStats.median(warm.stream().map(Long::doubleValue).toList());
    r.put("convert_cold_ms", cold);
    r.put("convert_runs_ms", warm);
    r.put("convert_ms", warmMedian);
    r.put("convert_mib_s", mibPerS(sizeBytes, warmMedian));
    log.println("qemu-img convert -t writeback: " + cold + " ms cold, then " + warm + " ms warm");
    var unflushed = new ArrayList<Long>();
    for (int i = 0; i < Math.max(3, runs); i++) unflushed.add(convert(image, dst.resolve("convert-unflushed.qcow2")));
    long unflushedMedian = (long) StorageStats.median(unflushed.stream().map(Long::doubleValue).toList());
    r.put("convert_unflushed_runs_ms", unflushed);
    r.put("convert_unflushed_ms", unflushedMedian);
    r.put("convert_unflushed_mib_s", mibPerS(sizeBytes, unflushedMedian));
    log.println("qemu-img convert (its default cache mode, unflushed): " + unflushed + " ms");
    // the mirror after the first one reads an O_DIRECT source and always writes O_DIRECT: the same copy offline
    var direct = new ArrayList<Long>();
    for (int i = 0; i < Math.max(3, runs); i++) {
      direct.add(convert(image, dst.resolve("convert-direct.qcow2"), "-T", "none", "-t", "none"));
    }
    long directMedian = (long) StorageStats.median(direct.stream().map(Long::doubleValue).toList());
    r.put("convert_direct_runs_ms", direct);
    r.put("convert_direct_ms", directMedian);
    r.put("convert_direct_mib_s", mibPerS(sizeBytes, directMedian));
    log.println("qemu-img convert -T none -t none: " + direct + " ms");

    String token = "bench-" + Long.toHexString(new SplittableRandom().nextLong());
    try (Agent agent = Agent.start(AgentConfig.of("bench", "127.0.0.1", 0, work.resolve("agent"),
        "http://127.0.0.1:9", token).withPoolRoots(List.of(work)))) {
      HostAgent http = AgentHttp.of(agent.url(), token);
      http.definePool("src", new AgentPoolRequest(src.toString(), false));
      http.definePool("dst", new AgentPoolRequest(dst.toString(), false));
      Path kernel = Files.copy(guestDir.resolve("vmlinuz"), src.resolve("vmlinuz"));
      Path initrd = Files.copy(guestDir.resolve("initrd.img"), src.resolve("initrd.img"));
      http.defineVm("bench", new AgentVmDefinition("bench", 1, 256L << 20, "q35", "qemu64",
          kernel.toString(), initrd.toString(), "console=ttyS0 quiet ferry.disk=" + writeRateMibS + ":" + (GUEST_REGION >> 20),
          List.of(new AgentDisk("disk0", image.toString(), "qcow2"))));
      AgentVmStatus started = http.start("bench");
      r.put("accelerator", started.accelerator());
      try {
        GuestDiskLines lines = new GuestDiskLines(work.resolve("agent/vms/bench/run/console.log"));
        awaitDiskLine(lines);
        var measured = new ArrayList<Map<String, Object>>();
        long benchStart = System.nanoTime();
        // the VM boots on a page-cached image and every mirror leaves it on an O_DIRECT one, whose guest writes
        // are about twice as fast here: one uncounted mirror first, so every measured baseline is on the same kind
        log.println("warm-up mirror (not counted): puts the disk on an O_DIRECT node, as every measured mirror leaves it");
        r.put("warmup", measureMirror(http, lines, new Variant(0, false), "dst", "w0"));
        int n = 1;
        // rounds of every variant, so the machine's changing load falls on all variants alike
        for (int run = 1; run <= runs; run++) {
          for (Variant variant : variants) {
            // the disk moves back and forth between the pools, one pivot per mirror
            String to = n % 2 == 0 ? "dst" : "src";
            n++;
            log.printf("run %d/%d, mirror %d/%d: %s (%d s so far)%n", run, runs, n - 1, runs * variants.size(),
                variant.label(), TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - benchStart));
            var v = measureMirror(http, lines, variant, to, "r" + run + "v" + n);
            v.put("run", run);
            v.put("mirror_vs_convert", ratio((double) v.get("mirror_mib_s"), (double) r.get("convert_mib_s")));
            v.put("mirror_vs_convert_direct", ratio((double) v.get("mirror_mib_s"), (double) r.get("convert_direct_mib_s")));
            v.put("mirror_vs_convert_unflushed", ratio((double) v.get("mirror_mib_s"),
                (double) r.get("convert_unflushed_mib_s")));
            measured.add(v);
          }
        }
        r.put("runs", runs);
        r.put("mirrors", measured);
        r.put("variants", StorageStats.summarize(variants.stream().map(Variant::text).toList(), measured));
        r.put("loadavg_end", loadAverage());
      } finally {
        http.kill("bench");
      }
    }
    return r;
  }

  private Map<String, Object> measureMirror(HostAgent http, GuestDiskLines lines, Variant variant, String pool,
      String suffix) throws Exception {
    var r = new LinkedHashMap<String, Object>();
    r.put("variant", variant.text());
    r.put("cap_mib_s", variant.capMibS());
    r.put("adaptive", variant.adaptive());
    long b0 = lines.position();
    Thread.sleep(6000);
    long b1 = lines.position();
    var before = GuestDiskLines.latency(lines.between(b0, b1));
    log.printf("guest write latency before the mirror: mean %.0f us, max %.0f us%n", before.meanUs(), before.maxUs());

    // when the console log grew past each offset: a guest report is dated by when it appeared
    var marks = new ArrayList<long[]>();
    long t0 = System.nanoTime();
    marks.add(new long[] {t0, lines.position()});
    http.mirror("bench", "disk0", new MirrorRequest(pool, "qcow2", (long) variant.capMibS() << 20, suffix,
        variant.adaptive()));
    long setupMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    MirrorStatus s;
    while (true) {
      s = http.mirrorStatus("bench", "disk0");
      marks.add(new long[] {System.nanoTime(), lines.position()});
      if (s.state() == MirrorState.READY) break;
      if (s.state() == MirrorState.FAILED) throw new IllegalStateException("mirror failed: " + s.error());
      Thread.sleep(50);
    }
    long tEnd = System.nanoTime();
    long mirrorMs = TimeUnit.NANOSECONDS.toMillis(tEnd - t0);
    // the guest reports once a second: wait for the report that covers the end of the copy
    while (System.nanoTime() - tEnd < TimeUnit.MILLISECONDS.toNanos(1300)) {
      Thread.sleep(50);
      marks.add(new long[] {System.nanoTime(), lines.position()});
    }
    var during = GuestDiskLines.latency(duringMirror(lines.at(b1, lines.position()), marks, t0, tEnd));
    long copied = s.offset();
    log.printf("mirror: %d bytes in %d ms (%d ms to start it); guest write latency during it: mean %.0f us, max %.0f us%n",
        copied, mirrorMs, setupMs, during.meanUs(), during.maxUs());

    MirrorStatus pivot = http.pivot("bench", "disk0");
    long v0 = System.nanoTime();
    VerifyResult verify = http.within(Duration.ofMinutes(10)).verify("bench", "disk0");
    long verifyMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - v0);
    http.release("bench", "disk0", true);

    r.put("mirror_ms", mirrorMs);
    r.put("setup_ms", setupMs);
    r.put("mirror_bytes", copied);
    r.put("mirror_mib_s", mibPerS(copied, mirrorMs));
    r.put("copy_mib_s", mibPerS(copied, Math.max(1, mirrorMs - setupMs)));
    r.put("guest_lat_before_mean_us", round(before.meanUs()));
    r.put("guest_lat_before_max_us", round(before.maxUs()));
    r.put("guest_lat_during_mean_us", round(during.meanUs()));
    r.put("guest_lat_during_max_us", round(during.maxUs()));
    r.put("guest_lat_during_vs_before", ratio(during.meanUs(), before.meanUs()));
    r.put("guest_reports_during_mirror", during.seconds());
    r.put("guest_disk_errors", Math.max(before.errors(), during.errors()));
    r.put("pivot_ms", pivot.pivotMs() == null ? 0 : pivot.pivotMs());
    r.put("verify_ok", verify.ok());
    r.put("verify_ms", verifyMs);
    r.put("verify_compared_bytes", verify.comparedBytes());
    if (!verify.ok()) throw new IllegalStateException("the new image differs from the old one as of the pivot");
    return r;
  }

  /**
   * The guest's reports for the seconds the mirror ran: a report covers the second before it
   * appeared, so it counts when the middle of that second falls between the mirror's start and
   * end. A mirror shorter than that gets the first report after its start.
   */
  static List<GuestDiskLines.Sample> duringMirror(List<GuestDiskLines.At> reports, List<long[]> marks, long t0, long tEnd) {
    long half = TimeUnit.MILLISECONDS.toNanos(500);
    var in = new ArrayList<GuestDiskLines.Sample>();
    GuestDiskLines.Sample first = null;
    for (var at : reports) {
      long seen = Long.MAX_VALUE;
      for (long[] m : marks) {
        if (m[1] >= at.endOffset()) {
          seen = m[0];
          break;
        }
      }
      if (seen == Long.MAX_VALUE || seen <= t0) continue;
      if (first == null) first = at.sample();
      if (seen - half > t0 && seen - half <= tEnd) in.add(at.sample());
    }
    if (in.isEmpty() && first != null) in.add(first);
    return in;
  }

  private void awaitDiskLine(GuestDiskLines lines) throws Exception {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (lines.between(0, Long.MAX_VALUE).isEmpty()) {
      if (System.nanoTime() > until) throw new IllegalStateException("the guest wrote no DISK line in 120 s");
      Thread.sleep(200);
    }
  }

  /** Zeros where the guest's workload writes (it refuses foreign data there), random data after. */
  private void makeImage(Path image) throws Exception {
    Path raw = work.resolve("fill.raw");
    var rnd = new SplittableRandom(42);
    try (var f = new RandomAccessFile(raw.toFile(), "rw")) {
      f.setLength(sizeBytes);
      var ch = f.getChannel();
      byte[] chunk = new byte[1 << 20];
      for (long off = GUEST_REGION; off < sizeBytes; off += chunk.length) {
        rnd.nextBytes(chunk);
        ch.write(ByteBuffer.wrap(chunk, 0, (int) Math.min(chunk.length, sizeBytes - off)), off);
      }
    }
    exec("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.toString(), image.toString());
    Files.delete(raw);
  }

  private static long convert(Path from, Path to, String... cacheModes) throws Exception {
    var cmd = new ArrayList<>(List.of("qemu-img", "convert", "-f", "qcow2", "-O", "qcow2"));
    cmd.addAll(List.of(cacheModes));
    cmd.addAll(List.of(from.toString(), to.toString()));
    long t0 = System.nanoTime();
    exec(cmd.toArray(String[]::new));
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    Files.delete(to);
    return ms;
  }

  private static void exec(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
  }

  /** Other QEMUs on the machine skew every number here: the report says how loaded it was. */
  private static String loadAverage() throws IOException {
    String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
    return f[0] + " " + f[1] + " " + f[2];
  }

  static double mibPerS(long bytes, long ms) {
    return round(bytes / 1048576.0 / Math.max(1, ms) * 1000);
  }

  static double ratio(double a, double b) {
    return Math.round(a / b * 100) / 100.0;
  }

  static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }

  /** Two decimals, for medians of ratios; NaN (no runs) stays NaN. */
  static double round2(double v) {
    return Double.isNaN(v) ? v : Math.round(v * 100) / 100.0;
  }
}
