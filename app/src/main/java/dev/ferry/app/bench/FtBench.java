package dev.ferry.app.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.agent.Agent;
import dev.ferry.app.StreamClient;
import dev.ferry.controller.Controller;
import dev.ferry.controller.ControllerConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ferry bench ft} (issue 12): one FT-ready guest with a NIC, an unlimited memory writer and
 * a client holding one connection to its stream service, on a cluster of a real controller and
 * three real agents in this process whose QEMU is Ferry's FT build. Measured in the same run, on
 * the same guest: the memory writer's rate and the client's request latency unprotected, then
 * protected at each checkpoint interval; the checkpoint pause; then the primary killed (its QEMU
 * SIGKILLed, its agent stopped): the takeover as the client sees it (kill to the first line
 * after) and the re-protection on the third host with its guest pause.
 */
final class FtBench {

  static final String VM = "ftbench";
  static final List<String> HOSTS = List.of("ft-a", "ft-b", "ft-c");
  private static final Pattern MEM = Pattern.compile("FERRY MEM gen=(\\d+) rate=([0-9.]+) errors=(\\d+)");
  private static final Duration SETTLE = Duration.ofSeconds(3);
  /** the memory writer's region (ferry.mem=16:0): each generation rewrites all of it */
  static final int MEM_MIB = 16;

  private final Path work;
  private final Path guestDir;
  private final Path ftQemu;
  private final List<Integer> intervals;
  private final Duration window;
  private final PrintStream log;

  FtBench(Path work, Path guestDir, Path ftQemu, List<Integer> intervals, Duration window, PrintStream log) {
    this.work = work;
    this.guestDir = guestDir;
    this.ftQemu = ftQemu;
    this.intervals = intervals;
    this.window = window;
    this.log = log;
  }

  Map<String, Object> run() throws Exception {
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("window_s", window.toSeconds());
    report.put("ft_qemu", ftQemu.toString());
    BenchNetwork net = BenchNetwork.create(work, report, log);
    if (net == null) throw new IllegalStateException("bench ft needs the network (the client measures the latency)");
    Controller controller = Controller.start(ControllerConfig.loopback(work.resolve("controller"), null));
    List<Agent> agents = new ArrayList<>();
    List<String> taps = new ArrayList<>();
    try (net) {
      FerryCli ferry = new FerryCli(controller.url(), controller.token(), work);
      for (String h : HOSTS) agents.add(LiveCluster.agent(ferry, work, h, controller.url(), ftQemu));
      awaitCapable(ferry);
      for (String h : HOSTS) {
        Path pool = Files.createDirectories(work.resolve("pool-" + h));
        ferry.run("pool", "create", "local", "--host", h, "--path", pool.toString());
      }
      net.register(ferry);
      // the kernel must lie in a pool every host has: the secondary boots from the same definition
      Path sharedPool = Files.createDirectories(work.resolve("shared"));
      ferry.run("pool", "create", "shared", "--host", HOSTS.get(0), "--path", sharedPool.toString(), "--shared");
      Path shared = Files.createDirectories(sharedPool.resolve("guest"));
      Path kernel = Files.copy(guestDir.resolve("vmlinuz"), shared.resolve("vmlinuz"));
      Path initrd = Files.copy(guestDir.resolve("initrd.img"), shared.resolve("initrd.img"));
      JsonNode vm = ferry.json("vm", "create", VM, "--host", HOSTS.get(0), "--memory", "128M", "--kernel",
          kernel.toString(), "--initrd", initrd.toString(), "--append", "console=ttyS0 quiet ferry.mem=" + MEM_MIB + ":0",
          "--disk", "32M@local", "--nic", net.name(), "--ft-ready");
      String mac = vm.at("/nics/0/mac").asText();
      taps.addAll(HOSTS.stream().map(h -> dev.ferry.api.TapNames.of(h, VM, 0, mac)).toList());
      Path console = LiveCluster.console(work, HOSTS.get(0), VM);
      List<Map<String, Object>> rows = new ArrayList<>(cases(ferry, null, console, QUIET));
      try (StreamClient client = net.connect(console, mac)) {
        rows.addAll(cases(ferry, client, console, STREAMING));
        report.put("rows", rows);
        report.put("failover", failover(ferry, client, agents.get(0), console));
        report.put("stream_problems", client.problems());
      }
    } finally {
      // the agents leave their QEMUs running by design; these are the bench's own, found under its directory
      List<Long> killed = dev.ferry.app.LeftoverQemus.kill(work);
      if (!killed.isEmpty()) log.println("stopped the bench's QEMUs " + killed);
      // a QEMU killed without its agent leaves the tap its agent made
      List<String> gone = dev.ferry.app.LeftoverQemus.removeTaps(taps);
      if (!gone.isEmpty()) log.println("removed the bench's taps " + gone);
      for (Agent a : agents) {
        try {
          a.close();
        } catch (RuntimeException e) {
          log.println("closing an agent: " + e.getMessage());
        }
      }
      controller.close();
    }
    return report;
  }

  static final String QUIET = "no client";
  static final String STREAMING = "client streaming";

  /**
   * Unprotected, then protected at each interval, the network quiet (no client: the guest sends
   * nothing, checkpoints come from the interval) or with the client streaming (a line every 10 ms:
   * colo-compare's mismatches add checkpoints).
   */
  private List<Map<String, Object>> cases(FerryCli ferry, StreamClient client, Path console, String group)
      throws Exception {
    List<Map<String, Object>> rows = new ArrayList<>();
    log.println(group + ": unprotected, " + window.toSeconds() + " s");
    rows.add(measure(ferry, client, console, "unprotected, " + group, null));
    for (int interval : intervals) {
      log.println(group + ": protected at " + interval + " ms: enable, " + window.toSeconds() + " s, disable");
      awaitRunning(ferry);
      long t0 = System.nanoTime();
      JsonNode st = ferry.json("ft", "enable", VM, "--secondary", HOSTS.get(1), "--checkpoint-interval",
          Integer.toString(interval), "--no-reprotect");
      long enableMs = (System.nanoTime() - t0) / 1_000_000;
      Map<String, Object> row = measure(ferry, client, console, "protected, " + interval + " ms, " + group, interval);
      row.put("enable_ms", enableMs);
      row.put("enable_pause_ms", st.path("enable_pause_ms").isNumber() ? st.get("enable_pause_ms").asLong() : null);
      rows.add(row);
      ferry.run("ft", "disable", VM);
    }
    rows.forEach(r -> r.put("group", group));
    return rows;
  }

  /** One window: the writer's rate (median of its per-second reports), the echo latency, and with FT the pauses. */
  private Map<String, Object> measure(FerryCli ferry, StreamClient client, Path console, String what, Integer interval)
      throws Exception {
    Thread.sleep(SETTLE.toMillis());
    int from = lines(console).size();
    JsonNode before = interval == null ? null : ferry.json("ft", "status", VM);
    if (client != null) client.mark();
    Gen start = nextGen(console);
    Thread.sleep(window.toMillis());
    Gen end = nextGen(console);
    List<Double> echo = client == null ? List.of() : client.echoLatenciesMs();
    Double silence = client == null ? null : client.maxSilenceMs();
    JsonNode after = interval == null ? null : ferry.json("ft", "status", VM);
    List<String> fresh = lines(console);
    List<Double> rates = new ArrayList<>();
    for (String l : fresh.subList(Math.min(from, fresh.size()), fresh.size())) {
      Matcher m = MEM.matcher(l);
      if (m.find()) rates.add(Double.parseDouble(m.group(2)));
    }
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("case", what);
    row.put("interval_ms", interval);
    // on the host's clock: the guest's own stops while it is paused, so its reports cannot see the checkpoints
    row.put("mem_rate_mib_s", StorageBench.round((end.gen - start.gen) * (double) MEM_MIB
        / ((end.nanos - start.nanos) / 1e9)));
    row.put("mem_rate_guest_clock_mib_s", rounded(percentile(rates, 0.5)));
    row.put("mem_reports", rates.size());
    row.put("echo_median_ms", rounded(percentile(echo, 0.5)));
    row.put("echo_p99_ms", rounded(percentile(echo, 0.99)));
    row.put("echoes", echo.size());
    row.put("longest_silence_ms", rounded(silence));
    if (after != null) {
      long cps = after.get("checkpoints").asLong() - before.get("checkpoints").asLong();
      row.put("checkpoints", cps);
      row.put("checkpoints_per_s", StorageBench.round(cps / (double) window.toSeconds()));
      row.put("pause_median_ms", after.at("/checkpoint_pause_ms/median").isNumber()
          ? after.at("/checkpoint_pause_ms/median").asLong() : null);
      row.put("pause_max_ms", after.at("/checkpoint_pause_ms/max").isNumber()
          ? after.at("/checkpoint_pause_ms/max").asLong() : null);
    }
    log.printf("   %-22s memory writer %s MiB/s, echo median %s ms p99 %s ms%s%n", what, row.get("mem_rate_mib_s"),
        row.get("echo_median_ms"), row.get("echo_p99_ms"), after == null ? "" : ", " + row.get("checkpoints")
            + " checkpoints, pause median " + row.get("pause_median_ms") + " ms max " + row.get("pause_max_ms") + " ms");
    return row;
  }

  /**
   * Protected at the default interval with re-protection on: the primary's QEMU SIGKILLed and its
   * agent stopped (a host gone); the client's view of the takeover and the controller's record.
   */
  private Map<String, Object> failover(FerryCli ferry, StreamClient client, Agent primaryAgent, Path console)
      throws Exception {
    log.println("failover: protect at the default interval, kill the primary, wait for re-protection");
    awaitRunning(ferry);
    ferry.json("ft", "enable", VM, "--secondary", HOSTS.get(1));
    Thread.sleep(SETTLE.toMillis() * 2);
    long pid = Long.parseLong(Files.readString(work.resolve(HOSTS.get(0)).resolve("vms").resolve(VM)
        .resolve("run/qemu.pid")).strip());
    client.mark();
    Instant kill = Instant.now();
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    primaryAgent.close();
    JsonNode st;
    long until = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while ((st = ferry.json("ft", "status", VM)).get("reprotections").size() < 1
        || !st.get("state").asText().equals("protected")) {
      if (System.nanoTime() > until) throw new IllegalStateException("not re-protected within 120 s: " + st);
      Thread.sleep(200);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    JsonNode f = st.get("failovers").get(st.get("failovers").size() - 1);
    out.put("detected_ms", f.get("detected_ms").asLong());
    out.put("takeover_ms", f.get("takeover_ms").asLong());
    Instant first = client.firstLineAfter(kill.plusMillis(1));
    Double across = client.silenceAcross(kill);
    out.put("client_kill_to_first_line_ms", first == null ? null
        : StorageBench.round(Duration.between(kill, first).toNanos() / 1e6));
    out.put("client_silence_across_kill_ms", across == null ? null : StorageBench.round(across));
    JsonNode r = st.get("reprotections").get(0);
    out.put("reprotect_secondary", r.get("secondary").asText());
    out.put("reprotect_ms", r.get("took_ms").asLong());
    out.put("reprotect_guest_pause_ms", r.path("guest_pause_ms").isNumber() ? r.get("guest_pause_ms").asLong() : null);
    out.put("stream_clean", client.problems().isEmpty());
    log.printf("   detected %s ms, takeover %s ms; the client's first line %s ms after the kill; re-protected on %s"
        + " %s ms after, guest paused %s ms%n", out.get("detected_ms"), out.get("takeover_ms"),
        out.get("client_kill_to_first_line_ms"), out.get("reprotect_secondary"), out.get("reprotect_ms"),
        out.get("reprotect_guest_pause_ms"));
    return out;
  }

  /**
   * The controller's state of the VM is its agent's last heartbeat: right after an {@code ft
   * disable} it may still show a checkpoint's pause, which {@code ft enable} refuses.
   */
  private void awaitRunning(FerryCli ferry) throws InterruptedException {
    long t0 = System.nanoTime();
    long until = t0 + Duration.ofSeconds(30).toNanos();
    String state;
    while (!(state = ferry.json("vm", "show", VM).get("state").asText()).equals("running")) {
      if (System.nanoTime() > until) throw new IllegalStateException("vm " + VM + " is " + state + ", not running, 30 s on");
      Thread.sleep(200);
    }
    long waited = (System.nanoTime() - t0) / 1_000_000;
    if (waited > 0) log.println("   (vm show said running after " + waited + " ms)");
  }

  private void awaitCapable(FerryCli ferry) throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(240).toNanos();
    while (true) {
      int capable = 0;
      JsonNode hosts = ferry.json("host", "list");
      for (JsonNode h : hosts) if (h.at("/ft/supported").asBoolean()) capable++;
      if (capable == HOSTS.size()) return;
      if (System.nanoTime() > until) throw new IllegalStateException("hosts not FT-capable within 240 s: " + hosts);
      Thread.sleep(1000);
    }
  }

  /** A memory writer's report as it appeared on the console, with the host's clock then. */
  private record Gen(long gen, long nanos) {}

  /** Waits (polling every 20 ms) for the next memory writer's report and notes when it appeared. */
  private static Gen nextGen(Path console) throws Exception {
    long seen = lastGen(lines(console));
    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < until) {
      long g = lastGen(lines(console));
      if (g > seen) return new Gen(g, System.nanoTime());
      Thread.sleep(20);
    }
    throw new IllegalStateException("no memory writer report on " + console + " within 30 s");
  }

  private static long lastGen(List<String> lines) {
    for (int i = lines.size() - 1; i >= 0; i--) {
      Matcher m = MEM.matcher(lines.get(i));
      if (m.find()) return Long.parseLong(m.group(1));
    }
    return -1;
  }

  private static List<String> lines(Path console) throws java.io.IOException {
    return Files.exists(console) ? Files.readAllLines(console, java.nio.charset.StandardCharsets.ISO_8859_1) : List.of();
  }

  private static Double rounded(Double v) {
    return v == null ? null : StorageBench.round(v);
  }

  /** The value at fraction {@code p} of the sorted values (0.5: the median, the upper one of an even count); null when none. */
  static Double percentile(List<Double> values, double p) {
    if (values.isEmpty()) return null;
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    int i = (int) Math.ceil(p * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
  }
}
