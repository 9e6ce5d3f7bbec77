package dev.ferry.app.bench;

import dev.ferry.agent.Agent;
import dev.ferry.agent.AgentConfig;
import dev.ferry.api.agent.AgentPoolRequest;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.HostAgent;
import dev.ferry.api.agent.IncomingReady;
import dev.ferry.api.agent.IncomingRequest;
import dev.ferry.api.agent.IncomingStatus;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.MigrationTuning;
import dev.ferry.api.agent.OutgoingRequest;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Live migration, measured: one 256 MiB guest at a time moves between two in-process agents on
 * this machine (a shared pool holds its kernel and initrd; it has no disk), three ways per
 * workload, in the same run:
 * <ul>
 *   <li>{@code raw}: what a plain {@code virsh migrate --live} gives, QEMU's defaults: no
 *       parameter set, only the {@code events} capability (the agent always sets it);</li>
 *   <li>{@code ferry}: the controller's policy for default flags ({@link FerryPolicy}: its
 *       capabilities and parameters, and its convergence watch that switches to post-copy when
 *       pre-copy is stuck), driven through the same agent calls the controller makes;</li>
 *   <li>{@code ferry-params}: QEMU with exactly Ferry's starting capabilities and parameters but
 *       no policy (no post-copy switch), to separate parameters from orchestration.</li>
 * </ul>
 * A run that has not completed within the time limit is cancelled; then the guest must keep
 * running on the source, which its heartbeat shows.
 */
final class LiveBench {

  static final long GUEST_BYTES = 256L << 20;
  /** the memory workload's region; the rest is kernel, initramfs and the page cache */
  static final int MEM_MIB = 128;
  static final Duration POLL = Duration.ofMillis(100);

  record Workload(String name, Integer rateMibS) {
    String append() {
      return "console=ttyS0 quiet" + (rateMibS == null ? "" : " ferry.mem=" + MEM_MIB + ":" + rateMibS);
    }
  }

  enum Method {
    RAW("raw", "(a) raw QEMU defaults"),
    FERRY("ferry", "(b) Ferry policy"),
    FERRY_PARAMS("ferry-params", "(c) Ferry's parameters, no policy");

    final String id;
    final String label;

    Method(String id, String label) {
      this.id = id;
      this.label = label;
    }
  }

  static final List<Workload> WORKLOADS = List.of(new Workload("idle", null), new Workload("mem-64", 64),
      new Workload("mem-200", 200), new Workload("mem-max", 0));

  private static final Pattern HB = Pattern.compile("FERRY HB boot=(\\w+) seq=(\\d+)");
  private static final Pattern MEM = Pattern.compile("FERRY MEM gen=(\\d+) rate=([0-9.]+) errors=(\\d+)");

  private final Path work;
  private final Path guestDir;
  private final long limitMs;
  private final PrintStream log;
  private Path aDir;
  private Path bDir;
  private HostAgent a;
  private HostAgent b;
  private Path kernel;
  private Path initrd;

  LiveBench(Path work, Path guestDir, int secondsLimit, PrintStream log) {
    this.work = work;
    this.guestDir = guestDir;
    this.limitMs = secondsLimit * 1000L;
    this.log = log;
  }

  Map<String, Object> run() throws Exception {
    Path shared = Files.createDirectories(work.resolve("shared"));
    kernel = Files.copy(guestDir.resolve("vmlinuz"), shared.resolve("vmlinuz"));
    initrd = Files.copy(guestDir.resolve("initrd.img"), shared.resolve("initrd.img"));
    aDir = work.resolve("agent-a");
    bDir = work.resolve("agent-b");
    String token = "bench-" + Long.toHexString(new SplittableRandom().nextLong());
    var r = new LinkedHashMap<String, Object>();
    r.put("guest_ram_requested_bytes", GUEST_BYTES);
    r.put("mem_workload_mib", MEM_MIB);
    r.put("seconds_limit", limitMs / 1000);
    try (Agent agentA = Agent.start(AgentConfig.of("bench-a", "127.0.0.1", 0, aDir, "http://127.0.0.1:9", token).withPoolRoots(List.of(work)));
        Agent agentB = Agent.start(AgentConfig.of("bench-b", "127.0.0.1", 0, bDir, "http://127.0.0.1:9", token).withPoolRoots(List.of(work)))) {
      a = AgentHttp.of(agentA.url(), token);
      b = AgentHttp.of(agentB.url(), token);
      for (HostAgent h : List.of(a, b)) h.definePool("shared", new AgentPoolRequest(shared.toString(), true));
      FerryPolicy probe = FerryPolicy.defaults("probe", "b");
      r.put("ferry_source_capabilities", probe.sourceCapabilities());
      r.put("ferry_source_parameters", probe.sourceParameters(GUEST_BYTES));
      r.put("ferry_target_capabilities", probe.targetCapabilities());
      var workloads = new ArrayList<Map<String, Object>>();
      for (Workload w : WORKLOADS) {
        var wr = new LinkedHashMap<String, Object>();
        wr.put("workload", w.name());
        wr.put("requested_rate_mib_s", w.rateMibS() == null ? null : w.rateMibS() == 0 ? "max" : w.rateMibS());
        var runs = new LinkedHashMap<String, Map<String, Object>>();
        for (Method m : Method.values()) {
          log.printf("== %s, %s%n", w.name(), m.label);
          Map<String, Object> one;
          try {
            one = runOne(w, m, r);
          } catch (RuntimeException e) {
            one = new LinkedHashMap<>();
            one.put("method", m.id);
            one.put("converged", false);
            one.put("error", e.getMessage());
            log.println("   FAILED: " + e.getMessage());
          }
          runs.put(m.id, one);
          log.println("   " + one);
        }
        wr.put("runs", runs);
        wr.put("ratios", ratios(runs));
        workloads.add(wr);
      }
      r.put("workloads", workloads);
    }
    return r;
  }

  private Map<String, Object> runOne(Workload w, Method m, Map<String, Object> top) throws Exception {
    String name = "live-" + w.name() + "-" + m.id;
    String id = name + "-1";
    var out = new LinkedHashMap<String, Object>();
    out.put("method", m.id);
    Path srcConsole = aDir.resolve("vms").resolve(name).resolve("run/console.log");
    Path dstConsole = bDir.resolve("vms").resolve(name).resolve("run/console.log");
    var def = new AgentVmDefinition(name, 1, GUEST_BYTES, "q35", "qemu64", kernel.toString(), initrd.toString(), w.append(),
        List.of());
    boolean targetPrepared = false;
    boolean onTarget = false;
    boolean sourceRunning = false;
    try {
      a.defineVm(name, def);
      AgentVmStatus started = a.start(name);
      sourceRunning = true;
      AgentVmStatus st = a.vm(name);
      top.putIfAbsent("accelerator", started.accelerator() != null ? started.accelerator() : st.accelerator());
      long given = st.memoryGivenBytes();
      top.putIfAbsent("guest_ram_given_bytes", given);
      top.putIfAbsent("memory_adjustment", st.memoryAdjustment());
      String machine = st.machineType();
      awaitLine(srcConsole, 0, "FERRY READY", 120_000);
      long warm = position(srcConsole);
      if (w.rateMibS() != null) awaitCount(srcConsole, warm, MEM, 3, 30_000);
      else Thread.sleep(1000);
      var before = memRates(read(srcConsole, warm));
      out.put("guest_rate_before_mib_s", mean(before));
      out.put("guest_rate_before_max_mib_s", before.isEmpty() ? null : before.stream().mapToDouble(Double::doubleValue).max().getAsDouble());

      FerryPolicy policy = FerryPolicy.defaults(name, "bench-b");
      Map<String, Boolean> tCaps = m == Method.RAW ? Map.of() : policy.targetCapabilities();
      Map<String, Object> tParams = m == Method.RAW ? Map.of() : policy.targetParameters();
      Map<String, Boolean> sCaps = m == Method.RAW ? Map.of() : policy.sourceCapabilities();
      Map<String, Object> sParams = m == Method.RAW ? Map.of() : policy.sourceParameters(given);
      out.put("capabilities", sCaps);
      out.put("parameters", sParams);

      var resolved = new AgentVmDefinition(name, 1, GUEST_BYTES, machine, "qemu64", kernel.toString(), initrd.toString(),
          w.append(), List.of());
      long e0 = System.nanoTime();
      IncomingReady ready = b.within(Duration.ofSeconds(60)).incoming(name,
          new IncomingRequest(id, resolved, given, tCaps, tParams, List.of()));
      targetPrepared = true;
      long mig0Pos = position(srcConsole);
      long t0 = System.nanoTime();
      a.outgoing(name, new OutgoingRequest(id, ready.migrationUri(), sCaps, sParams, null));
      MigrationStats s;
      boolean postcopy = false;
      Long postcopyAtMs = null;
      String stopReason = null;
      Long targetRunningAtMs = null;
      String resumeRefusal = null;
      while (true) {
        s = stats(name);
        long el = ms(t0);
        if (s.status() != null && s.status().postcopy()) {
          postcopy = true;
          // as the controller does: post-copy hands the CPU state over, so the target must run now
          if (m == Method.FERRY && targetRunningAtMs == null) {
            try {
              b.within(Duration.ofSeconds(60)).finishIncoming(name);
              targetRunningAtMs = ms(t0);
              log.printf("   target resumed during post-copy after %d ms%n", targetRunningAtMs);
            } catch (IllegalStateException e) {
              resumeRefusal = e.getMessage(); // the target may not be in post-copy yet: ask again next poll
            }
          }
        }
        if (s.phase().completed()) break;
        if (s.phase().abandoned()) {
          throw new IllegalStateException("migration " + s.phase() + ": " + s.error());
        }
        if (m == Method.FERRY && !postcopy) {
          Instant now = Instant.now();
          policy.observe(s, now);
          Map<String, Object> throttle = policy.nextThrottle(now);
          if (throttle != null) {
            log.printf("   policy: auto-converge steeper after %d ms: %s%n", el, throttle);
            a.tuneOutgoing(name, new MigrationTuning(throttle));
          }
          if (policy.shouldSwitchToPostcopy(now)) {
            log.printf("   policy: switching to post-copy after %d ms (%d passes, %d MiB remaining)%n", el, s.passes(),
                s.ramRemainingBytes() >> 20);
            a.postcopy(name);
            postcopy = true;
            postcopyAtMs = el;
            continue;
          } else if (policy.shouldGiveUp(now)) {
            stopReason = "Ferry's policy gave up: " + policy.stuckReason();
            break;
          }
        }
        if (el > limitMs && !postcopy) {
          stopReason = "not converged within " + limitMs / 1000 + " s";
          break;
        }
        if (el > limitMs + 60_000) throw new IllegalStateException("post-copy did not complete within the limit + 60 s");
        Thread.sleep(POLL.toMillis());
      }
      long pollMs = ms(t0);
      var during = memRates(read(srcConsole, mig0Pos));
      out.put("guest_rate_during_mib_s", mean(during));
      out.put("guest_rate_during_max_mib_s", during.isEmpty() ? null : during.stream().mapToDouble(Double::doubleValue).max().getAsDouble());
      out.put("guest_reports_during", during.size());
      out.put("postcopy_used", postcopy);
      out.put("postcopy_switch_after_ms", postcopyAtMs);
      if (postcopy && m == Method.FERRY) {
        out.put("target_running_during_postcopy_after_ms", targetRunningAtMs);
        // an upper bound of the guest's pause: the switch was requested before the source stopped
        out.put("postcopy_guest_pause_bound_ms", targetRunningAtMs == null || postcopyAtMs == null ? null
            : targetRunningAtMs - postcopyAtMs);
        if (targetRunningAtMs == null) out.put("target_resume_refused", resumeRefusal);
      }

      if (stopReason != null) {
        MigrationStats c = a.cancelOutgoing(name);
        b.rollBackIncoming(name);
        targetPrepared = false;
        out.put("converged", false);
        out.put("reason", stopReason);
        out.put("cancelled_after_ms", pollMs);
        // the numbers QEMU showed last while it still ran; the cancel's answer has status cancelled and no RAM figures
        putStats(out, s);
        out.put("qemu_status", c == null ? null : c.status());
        // the guest must keep running on the source
        AgentVmStatus after = a.vm(name);
        out.put("source_state_after_cancel", after.state() == null ? null : after.state().name().toLowerCase(Locale.ROOT));
        out.put("source_heartbeat_after_cancel", heartbeatAdvances(srcConsole));
        log.printf("   %s; source %s, heartbeat advancing: %s%n", stopReason, out.get("source_state_after_cancel"),
            out.get("source_heartbeat_after_cancel"));
      } else {
        IncomingStatus fin = b.within(Duration.ofSeconds(60)).finishIncoming(name);
        onTarget = true;
        targetPrepared = false;
        long endToEnd = ms(e0);
        MigrationStats done = a.completeOutgoing(name, false);
        sourceRunning = false;
        out.put("converged", true);
        out.put("resumed_on_target_running", fin.running());
        out.put("end_to_end_ms", endToEnd);
        putStats(out, done != null && done.wallTimeMs() != null ? done : s);
        out.put("target_heartbeat_after_resume", heartbeatAdvances(dstConsole));
        var memAfter = memErrors(read(dstConsole, 0));
        out.put("target_mem_errors", memAfter);
      }
      return out;
    } finally {
      if (targetPrepared) quietly(() -> b.rollBackIncoming(name));
      if (onTarget) quietly(() -> b.kill(name));
      if (sourceRunning) quietly(() -> a.kill(name));
    }
  }

  private static void putStats(Map<String, Object> out, MigrationStats s) {
    out.put("total_ms", s.wallTimeMs());
    out.put("qemu_total_ms", s.totalTimeMs());
    out.put("downtime_qemu_ms", s.downtimeMs());
    out.put("pause_ms", s.pauseMs());
    out.put("bytes_sent", s.ramTransferredBytes());
    out.put("passes", s.passes());
    out.put("postcopy_requests", s.postcopyRequests());
    out.put("last_dirty_rate_mib_s", StorageBench.round(s.dirtyRateBytesPerS() / 1048576.0));
    out.put("last_mbps", StorageBench.round(s.mbps()));
    out.put("qemu_status", s.status());
  }

  private MigrationStats stats(String name) {
    return a.outgoingStats(name);
  }

  /** Side by side: Ferry / raw defaults, and (c) / (b). */
  static Map<String, Object> ratios(Map<String, Map<String, Object>> runs) {
    var r = new LinkedHashMap<String, Object>();
    Map<String, Object> raw = runs.get("raw");
    Map<String, Object> ferry = runs.get("ferry");
    Map<String, Object> params = runs.get("ferry-params");
    r.put("ferry_vs_raw_total", ratio(ferry, raw, "total_ms"));
    r.put("ferry_vs_raw_downtime", ratio(ferry, raw, "downtime_qemu_ms"));
    r.put("ferry_vs_raw_pause", ratio(ferry, raw, "pause_ms"));
    r.put("params_vs_ferry_total", ratio(params, ferry, "total_ms"));
    r.put("params_vs_ferry_downtime", ratio(params, ferry, "downtime_qemu_ms"));
    return r;
  }

  /** A ratio when both converged, else a sentence saying which did not. */
  private static Object ratio(Map<String, Object> x, Map<String, Object> y, String key) {
    boolean xc = Boolean.TRUE.equals(x.get("converged"));
    boolean yc = Boolean.TRUE.equals(y.get("converged"));
    if (!xc && !yc) return "neither converged";
    if (!xc) return x.get("method") + " did not converge";
    if (!yc) return y.get("method") + " did not converge";
    Object a = x.get(key);
    Object b = y.get(key);
    if (!(a instanceof Number na) || !(b instanceof Number nb)) return null;
    if (nb.doubleValue() == 0) return null;
    return StorageBench.ratio(na.doubleValue(), nb.doubleValue());
  }

  // ---- the guest's console

  private boolean heartbeatAdvances(Path console) throws Exception {
    long seqBefore = lastSeq(read(console, 0));
    Thread.sleep(2500);
    long seqAfter = lastSeq(read(console, 0));
    return seqAfter > seqBefore && seqBefore >= 0 || seqAfter >= 2 && seqBefore < 0;
  }

  private static long lastSeq(String text) {
    long seq = -1;
    Matcher m = HB.matcher(text);
    while (m.find()) seq = Long.parseLong(m.group(2));
    return seq;
  }

  private static List<Double> memRates(String text) {
    var out = new ArrayList<Double>();
    Matcher m = MEM.matcher(text);
    while (m.find()) out.add(Double.parseDouble(m.group(2)));
    return out;
  }

  private static long memErrors(String text) {
    long e = 0;
    Matcher m = MEM.matcher(text);
    while (m.find()) e = Math.max(e, Long.parseLong(m.group(3)));
    return e;
  }

  /** null without reports (no memory writer, or none in the window) */
  private static Double mean(List<Double> v) {
    return v.isEmpty() ? null : StorageBench.round(v.stream().mapToDouble(Double::doubleValue).average().orElse(0));
  }

  private static void awaitLine(Path console, long from, String text, long timeoutMs) throws Exception {
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (!read(console, from).contains(text)) {
      if (System.nanoTime() > until) throw new IllegalStateException("no '" + text + "' on " + console + " in " + timeoutMs + " ms");
      Thread.sleep(200);
    }
  }

  private static void awaitCount(Path console, long from, Pattern p, int n, long timeoutMs) throws Exception {
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (p.matcher(read(console, from)).results().count() < n) {
      if (System.nanoTime() > until) throw new IllegalStateException("fewer than " + n + " '" + p + "' lines in " + timeoutMs + " ms");
      Thread.sleep(200);
    }
  }

  private static long position(Path console) {
    return console.toFile().length();
  }

  private static String read(Path console, long from) throws IOException {
    if (!Files.exists(console)) return "";
    try (var f = new RandomAccessFile(console.toFile(), "r")) {
      long end = f.length();
      byte[] buf = new byte[(int) Math.max(0, end - from)];
      f.seek(from);
      f.readFully(buf);
      return new String(buf, StandardCharsets.UTF_8);
    }
  }

  private static long ms(long t0) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
  }

  private void quietly(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      log.println("   cleanup: " + e.getMessage());
    }
  }
}
