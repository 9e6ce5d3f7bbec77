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

  private final Path work;
  private final Path guestDir;
  private final long sizeBytes;
  private final int writeRateMibS;
  private final List<Integer> capsMibS;
  private final PrintStream log;

  StorageBench(Path work, Path guestDir, long sizeBytes, int writeRateMibS, List<Integer> capsMibS, PrintStream log) {
    this.work = work;
    this.guestDir = guestDir;
    this.sizeBytes = sizeBytes;
    this.writeRateMibS = writeRateMibS;
    this.capsMibS = List.copyOf(capsMibS);
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
    long cold = convert(image, dst.resolve("convert-cold.qcow2"));
    long warm = convert(image, dst.resolve("convert-warm.qcow2"));
    r.put("convert_cold_ms", cold);
    r.put("convert_ms", warm);
    r.put("convert_mib_s", mibPerS(sizeBytes, warm));
    log.println("qemu-img convert: " + cold + " ms cold, " + warm + " ms warm");

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
        var variants = new ArrayList<Map<String, Object>>();
        for (int i = 0; i < capsMibS.size(); i++) {
          // the disk moves back and forth between the pools, one pivot per variant
          String to = i % 2 == 0 ? "dst" : "src";
          log.printf("variant %d/%d: mirror capped at %s%n", i + 1, capsMibS.size(),
              capsMibS.get(i) == 0 ? "nothing" : capsMibS.get(i) + " MiB/s");
          var v = measureMirror(http, lines, capsMibS.get(i), to, "v" + i);
          v.put("mirror_vs_convert", ratio((double) v.get("mirror_mib_s"), (double) r.get("convert_mib_s")));
          variants.add(v);
        }
        r.put("variants", variants);
        r.put("loadavg_end", loadAverage());
      } finally {
        http.kill("bench");
      }
    }
    return r;
  }

  private Map<String, Object> measureMirror(HostAgent http, GuestDiskLines lines, int capMibS, String pool, String suffix)
      throws Exception {
    var r = new LinkedHashMap<String, Object>();
    r.put("cap_mib_s", capMibS);
    long b0 = lines.position();
    Thread.sleep(6000);
    long b1 = lines.position();
    var before = GuestDiskLines.latency(lines.between(b0, b1));
    log.printf("guest write latency before the mirror: mean %.0f us, max %.0f us%n", before.meanUs(), before.maxUs());

    long t0 = System.nanoTime();
    http.mirror("bench", "disk0", new MirrorRequest(pool, "qcow2", (long) capMibS << 20, suffix));
    MirrorStatus s;
    while (true) {
      s = http.mirrorStatus("bench", "disk0");
      if (s.state() == MirrorState.READY) break;
      if (s.state() == MirrorState.FAILED) throw new IllegalStateException("mirror failed: " + s.error());
      Thread.sleep(50);
    }
    long mirrorMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    long b2 = lines.position();
    // the guest reports once a second: keep the window open until a report covers the end of the copy
    Thread.sleep(1200);
    var during = GuestDiskLines.latency(lines.between(b1, lines.position()));
    long copied = s.offset();
    log.printf("mirror: %d bytes in %d ms; guest write latency during it: mean %.0f us, max %.0f us%n", copied, mirrorMs,
        during.meanUs(), during.maxUs());

    MirrorStatus pivot = http.pivot("bench", "disk0");
    long v0 = System.nanoTime();
    VerifyResult verify = http.within(Duration.ofMinutes(10)).verify("bench", "disk0");
    long verifyMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - v0);
    http.release("bench", "disk0", true);

    r.put("mirror_ms", mirrorMs);
    r.put("mirror_bytes", copied);
    r.put("mirror_mib_s", mibPerS(copied, mirrorMs));
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
    if (b2 < b1) throw new IllegalStateException("console log shrank");
    if (!verify.ok()) throw new IllegalStateException("the new image differs from the old one as of the pivot");
    return r;
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

  private static long convert(Path from, Path to) throws Exception {
    long t0 = System.nanoTime();
    exec("qemu-img", "convert", "-f", "qcow2", "-O", "qcow2", from.toString(), to.toString());
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
}
