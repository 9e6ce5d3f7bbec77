package dev.ferry.app.bench;

import dev.ferry.nbd.MetaContexts;
import dev.ferry.nbd.NbdAddress;
import dev.ferry.nbd.NbdClient;
import dev.ferry.nbd.copy.CopyPlan;
import dev.ferry.nbd.copy.DiskCopy;
import dev.ferry.nbd.copy.RawFileTarget;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The cold copier, measured: Ferry's copier next to {@code qemu-img convert} and {@code nbdcopy},
 * all three pulling the same image from the same export in the same run, into a new raw file on
 * the same file system, a full image and a sparse one.
 *
 * <p>The export is what a cold migration's source serves: {@code qemu-storage-daemon} over the
 * qcow2 image, read-only, on TCP loopback (no TLS: the relay is the same QEMU code for every
 * tool, so it is left out). Ferry's copier runs in this JVM exactly as the target agent runs it
 * ({@link DiskCopy.Options#forDirectWrites()}, plan from {@code base:allocation}, {@link RawFileTarget});
 * an agent is a running daemon, so the JVM's start is not timed, and one untimed copy warms the
 * JIT and the source's page cache for all three. The tools take turns within each round, in an
 * order that rotates, so a burst of load from the machine's other users falls on each alike.
 * Every copy the goal compares ends durable: Ferry's copier flushes, {@code nbdcopy --flush},
 * and {@code qemu-img convert -t writeback}. A migration deletes the source once the copy is in,
 * so a copy still in the page cache is not done. {@code convert}'s own default cache mode is
 * {@code unsafe}, which never flushes (strace: no fdatasync at all); it runs too, as
 * {@code qemu-img-unsafe}, so the report shows what the flush costs, but stays out of the goal.
 * Every copy is compared with the source ({@code qemu-img compare}) outside the timing.
 */
final class CopyBench {

  static final List<String> TOOLS = List.of("ferry", "qemu-img", "nbdcopy", "qemu-img-unsafe");

  /** One image of the run. */
  record Image(String name, long sizeBytes, long dataBytes) {}

  private final Path work;
  private final long fullBytes;
  private final long sparseBytes;
  private final long sparseDataBytes;
  private final int runs;
  private final PrintStream log;

  CopyBench(Path work, long fullBytes, long sparseBytes, long sparseDataBytes, int runs, PrintStream log) {
    this.work = work;
    this.fullBytes = fullBytes;
    this.sparseBytes = sparseBytes;
    this.sparseDataBytes = sparseDataBytes;
    this.runs = runs;
    this.log = log;
  }

  Map<String, Object> run() throws Exception {
    var r = new LinkedHashMap<String, Object>();
    r.put("loadavg_start", loadAverage());
    r.put("runs", runs);
    r.put("nbdcopy_version", firstLine("nbdcopy", "--version"));
    r.put("qemu_img_version", firstLine("qemu-img", "--version"));
    DiskCopy.Options o = DiskCopy.Options.forDirectWrites();
    r.put("ferry_options", "%d connections x %d requests of %d KiB in flight, %s writes".formatted(o.connections(),
        o.inFlight(), o.requestSize() >> 10, directWrites() ? "direct (O_DIRECT)" : "page-cache"));
    List<Map<String, Object>> images = new ArrayList<>();
    Image full = new Image("full", fullBytes, fullBytes);
    Image sparse = new Image("sparse", sparseBytes, sparseDataBytes);
    for (Image image : List.of(full, sparse)) {
      Path qcow2 = work.resolve(image.name() + ".qcow2");
      log.println("preparing the " + image.name() + " image: " + (image.sizeBytes() >> 20) + " MiB, "
          + (image.dataBytes() >> 20) + " MiB of data");
      make(qcow2, image);
      images.add(measure(image, qcow2));
      Files.delete(qcow2);
    }
    r.put("images", images);
    r.put("loadavg_end", loadAverage());
    return r;
  }

  private Map<String, Object> measure(Image image, Path qcow2) throws Exception {
    int port = freePort();
    Process daemon = new ProcessBuilder("qemu-storage-daemon",
        "--blockdev", "driver=file,node-name=f0,filename=" + qcow2.toString().replace(",", ",,") + ",read-only=on",
        "--blockdev", "driver=qcow2,node-name=d0,file=f0,read-only=on",
        "--nbd-server", "addr.type=inet,addr.host=127.0.0.1,addr.port=" + port,
        "--export", "type=nbd,id=e0,node-name=d0,name=disk,writable=off")
        .redirectErrorStream(true).redirectOutput(work.resolve("qsd-" + image.name() + ".log").toFile()).start();
    try {
      awaitListening(daemon, port);
      String uri = "nbd://127.0.0.1:" + port + "/disk";
      NbdAddress address = NbdAddress.tcp("127.0.0.1", port);
      Path out = work.resolve("out.raw");
      log.println(image.name() + ": warm-up copy (not timed)");
      copy("ferry", address, uri, image, out);
      var times = new LinkedHashMap<String, List<Long>>();
      TOOLS.forEach(t -> times.put(t, new ArrayList<>()));
      for (int round = 0; round < runs; round++) {
        for (int i = 0; i < TOOLS.size(); i++) {
          String tool = TOOLS.get((i + round) % TOOLS.size());
          long ms = copy(tool, address, uri, image, out);
          verify(qcow2, out, tool);
          times.get(tool).add(ms);
          log.printf("%s, run %d of %d: %-8s %6d ms  %7.1f MiB/s of data  (load %s)%n", image.name(), round + 1, runs, tool,
              ms, mibPerS(image.dataBytes(), ms), loadAverage());
        }
      }
      Files.deleteIfExists(out);
      var m = new LinkedHashMap<String, Object>();
      m.put("image", image.name());
      m.put("size_bytes", image.sizeBytes());
      m.put("data_bytes", image.dataBytes());
      for (String tool : TOOLS) {
        long median = median(times.get(tool));
        String key = tool.replace("-", "_");
        m.put(key + "_ms", times.get(tool));
        m.put(key + "_median_ms", median);
        m.put(key + "_mib_s", mibPerS(image.dataBytes(), median));
      }
      long best = Math.min(median(times.get("qemu-img")), median(times.get("nbdcopy")));
      m.put("ferry_vs_best", ratio(best, median(times.get("ferry"))));
      return m;
    } finally {
      daemon.destroy();
      if (!daemon.waitFor(5, TimeUnit.SECONDS)) daemon.destroyForcibly().waitFor();
    }
  }

  /** Whether the copier's writes bypass the page cache on the file system of the work directory. */
  private boolean directWrites() throws Exception {
    Path probe = Files.createTempFile(work, "direct", ".raw");
    try (RawFileTarget t = new RawFileTarget(probe)) {
      return t.direct();
    } finally {
      Files.delete(probe);
    }
  }

  /** One timed copy into a new file at {@code out}; returns its wall time in ms. */
  private long copy(String tool, NbdAddress address, String uri, Image image, Path out) throws Exception {
    Files.deleteIfExists(out);
    long t0 = System.nanoTime();
    switch (tool) {
      case "ferry" -> {
        try (RandomAccessFile f = new RandomAccessFile(out.toFile(), "rw")) {
          f.setLength(image.sizeBytes());
        }
        CopyPlan plan;
        try (NbdClient c = NbdClient.connect(address, "disk", List.of(MetaContexts.BASE_ALLOCATION))) {
          plan = CopyPlan.fromAllocation(c.size(), c.blockStatus(0, c.size(), MetaContexts.BASE_ALLOCATION));
        }
        DiskCopy copy = new DiskCopy(plan, () -> NbdClient.connect(address, "disk", List.of()),
            () -> new RawFileTarget(out), DiskCopy.Options.forDirectWrites());
        copy.run();
        if (copy.copiedBytes() != image.dataBytes()) {
          throw new IllegalStateException("ferry sent " + copy.copiedBytes() + " bytes of " + image.name() + ", which has "
              + image.dataBytes() + " bytes of data");
        }
      }
      case "qemu-img" -> exec("qemu-img", "convert", "-t", "writeback", "-f", "raw", "-O", "raw", uri, out.toString());
      case "qemu-img-unsafe" -> exec("qemu-img", "convert", "-f", "raw", "-O", "raw", uri, out.toString());
      case "nbdcopy" -> {
        exec("truncate", "-s", Long.toString(image.sizeBytes()), out.toString());
        exec("nbdcopy", "--flush", uri, out.toString());
      }
      default -> throw new IllegalArgumentException("no tool " + tool);
    }
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
  }

  private static void verify(Path qcow2, Path out, String tool) throws Exception {
    Process p = new ProcessBuilder("qemu-img", "compare", "-q", "-f", "qcow2", "-F", "raw", qcow2.toString(), out.toString())
        .redirectErrorStream(true).start();
    String text = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) throw new IllegalStateException(tool + "'s copy differs from the source: " + text.strip());
  }

  /** qcow2 with data written by qemu-io: all of it, or two extents of half the data each. */
  private static void make(Path qcow2, Image image) throws Exception {
    exec("qemu-img", "create", "-q", "-f", "qcow2", qcow2.toString(), Long.toString(image.sizeBytes()));
    if (image.dataBytes() == image.sizeBytes()) {
      List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
      cmd.addAll(writes("0x5a", 0, image.sizeBytes()));
      cmd.add(qcow2.toString());
      exec(cmd.toArray(String[]::new));
    } else {
      long half = image.dataBytes() / 2;
      exec("qemu-io", "-f", "qcow2", "-c", "write -P 0x33 0 " + half, "-c",
          "write -P 0x44 " + image.sizeBytes() / 2 + " " + half, qcow2.toString());
    }
  }

  /**
   * qemu-io {@code -c} arguments writing {@code pattern} over {@code [from, from + length)} in
   * pieces of 1 GiB: one qemu-io write takes at most 2 GiB - 512 bytes.
   */
  static List<String> writes(String pattern, long from, long length) {
    List<String> out = new ArrayList<>();
    for (long at = from; at < from + length; at += 1L << 30) {
      out.add("-c");
      out.add("write -P " + pattern + " " + at + " " + Math.min(1L << 30, from + length - at));
    }
    return out;
  }

  private static void awaitListening(Process daemon, int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() < deadline) {
      if (!daemon.isAlive()) throw new IllegalStateException("qemu-storage-daemon exited with " + daemon.exitValue());
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException e) {
        Thread.sleep(50);
      }
    }
    throw new IllegalStateException("qemu-storage-daemon did not listen on port " + port + " within 15 s");
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static long median(List<Long> values) {
    List<Long> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private static String firstLine(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).strip();
      p.waitFor();
      return out.lines().findFirst().orElse("?");
    } catch (IOException | InterruptedException e) {
      return "not installed";
    }
  }

  private static void exec(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out.strip());
  }

  /** Other QEMUs on the machine skew every number here: the report says how loaded it was. */
  static String loadAverage() throws IOException {
    String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
    return f[0] + " " + f[1] + " " + f[2];
  }

  static double mibPerS(long bytes, long ms) {
    return Math.round(bytes / 1048576.0 / Math.max(1, ms) * 1000 * 10) / 10.0;
  }

  static double ratio(double a, double b) {
    return Math.round(a / b * 100) / 100.0;
  }
}
