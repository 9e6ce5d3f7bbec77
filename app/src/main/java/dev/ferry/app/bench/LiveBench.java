package dev.ferry.app.bench;

import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.MigrationPrediction;
import dev.ferry.api.MigrationStatus;
import dev.ferry.api.MigrationView;
import dev.ferry.api.VmView;
import dev.ferry.api.agent.AgentNic;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.HostAgent;
import dev.ferry.api.agent.IncomingReady;
import dev.ferry.api.agent.IncomingRequest;
import dev.ferry.api.agent.IncomingStatus;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.MigrationTuning;
import dev.ferry.api.agent.OutgoingRequest;
import dev.ferry.app.StreamClient;
import dev.ferry.controller.migration.LivePolicy;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Live migration, measured: one 256 MiB guest at a time moves between two agents of a cluster in
 * this process ({@link LiveCluster}: a real controller and two enrolled agents; a shared pool holds
 * the guest's kernel and initrd; it has no disk), three ways per workload, in the same run:
 * <ul>
 *   <li>{@code raw}: what a plain {@code virsh migrate --live} gives, QEMU's defaults: no
 *       parameter set, only the {@code events} capability (the agent always sets it), driven by
 *       the bench's direct agent calls;</li>
 *   <li>{@code ferry}: the product itself: the VM created with {@code ferry vm create} and moved
 *       with {@code ferry migrate live VM --to HOST}, every flag at its default, run in this
 *       process against the controller, which drives the migration with its own runner and
 *       policy; the figures are its migration record's and the source agent's;</li>
 *   <li>{@code ferry-params}: QEMU with exactly the capabilities and parameters the controller
 *       starts a default migration with ({@link LivePolicy}), driven like {@code raw}: separates
 *       the parameters from the orchestration.</li>
 * </ul>
 * A run that has not completed within the time limit is cancelled ({@code ferry migration cancel}
 * for {@code ferry}); then the guest must keep running on the source, which its heartbeat shows.
 * When this process may make a network ({@link BenchNetwork}: root, ip, dnsmasq) every guest has a
 * NIC on it and a client holds a connection to it across the migration; all three methods resume
 * the target through the same agent call, which announces the NIC ({@code announce-self}).
 */
final class LiveBench {

  static final long GUEST_BYTES = 256L << 20;
  /** the memory workload's region; the rest is kernel, initramfs and the page cache */
  static final int MEM_MIB = 128;
  static final Duration POLL = Duration.ofMillis(100);
  /**
   * (a) and (c) ask the source this often, as the controller does while RAM is copied
   * ({@code LiveCopy.SWITCH_POLL}): the target resumes once the bench saw completed, so the poll is
   * part of the guest's pause, and the three methods should pay the same for it
   */
  static final Duration SOURCE_POLL = Duration.ofMillis(50);

  /**
   * The non-convergent workload's link: 1 Gb/s, 119 MiB/s. Loopback outruns any writer this TCG
   * guest has (the large set at full speed converged in 4 passes uncapped), and shaping loopback
   * would slow every other process on the machine, so the link is emulated as a max-bandwidth of
   * 119 MiB/s for every method: a method's own setting where it is lower, else this (for Ferry
   * {@code --bandwidth 119}).
   */
  static final int NOCONV_LINK_MIB_S = 119;

  /** @param linkMibS the emulated link, null for the loopback as it is */
  record Workload(String name, Integer rateMibS, int mib, Integer linkMibS) {
    Workload(String name, Integer rateMibS) {
      this(name, rateMibS, MEM_MIB, null);
    }

    String append() {
      return "console=ttyS0 quiet" + (rateMibS == null ? "" : " ferry.mem=" + mib + ":" + rateMibS);
    }
  }

  enum Method {
    RAW("raw", "(a) raw QEMU defaults"),
    FERRY("ferry", "(b) Ferry: ferry migrate live through the controller"),
    FERRY_PARAMS("ferry-params", "(c) Ferry's parameters, no orchestration"),
    LIBVIRT("libvirt", "libvirt's defaults (virsh migrate --live)"),
    PROXMOX("proxmox", "Proxmox VE's defaults (qm migrate --online)"),
    KUBEVIRT("kubevirt", "KubeVirt's default migration configuration"),
    NOVA("nova", "OpenStack Nova's libvirt driver defaults");

    final String id;
    final String label;

    Method(String id, String label) {
      this.id = id;
      this.label = label;
    }

    /** a fresh policy object of the peer this method emulates; null for Ferry's own methods and raw */
    Peer peer() {
      return switch (this) {
        case RAW, FERRY, FERRY_PARAMS -> null;
        case LIBVIRT, PROXMOX, KUBEVIRT, NOVA -> Peer.of(id);
      };
    }

    static Method of(String id) {
      for (Method m : values()) if (m.id.equals(id)) return m;
      throw new IllegalArgumentException("method '" + id + "' is not one of " + ids());
    }

    static String ids() {
      return String.join(", ", java.util.Arrays.stream(values()).map(m -> m.id).toList());
    }
  }

  /**
   * idle; a small hot working set (16 MiB rewritten as fast as the guest can); the large set
   * ({@link #MEM_MIB}) at 64 and 200 MiB/s and as fast as it can; and the large set as fast as it
   * can over a 1 Gb/s link ({@link #NOCONV_LINK_MIB_S}), which no 300 ms pre-copy can finish
   */
  static final List<Workload> WORKLOADS = List.of(new Workload("idle", null), new Workload("hot-16", 0, 16, null),
      new Workload("mem-64", 64), new Workload("mem-200", 200), new Workload("mem-max", 0),
      new Workload("noconv", 0, MEM_MIB, NOCONV_LINK_MIB_S));

  static Workload workload(String name) {
    return WORKLOADS.stream().filter(w -> w.name().equals(name)).findFirst().orElseThrow(() -> new IllegalArgumentException(
        "workload '" + name + "' is not one of " + String.join(", ", WORKLOADS.stream().map(Workload::name).toList())));
  }

  private static final Pattern HB = Pattern.compile("FERRY HB boot=(\\w+) seq=(\\d+)");
  private static final Pattern MEM = Pattern.compile("FERRY MEM gen=(\\d+) rate=([0-9.]+) errors=(\\d+)");

  private final Path work;
  private final Path guestDir;
  private final long limitMs;
  private final int runsPerCell;
  private final List<Workload> workloads;
  private final List<Method> methods;
  private final PrintStream log;
  private LiveCluster cluster;
  private HostAgent a;
  private HostAgent b;
  private Path kernel;
  private Path initrd;
  /** null: no network this run, no silence figures */
  private BenchNetwork network;
  /** runs so far, for a MAC per guest */
  private int runs;

  LiveBench(Path work, Path guestDir, int secondsLimit, int runsPerCell, List<Workload> workloads, List<Method> methods,
      PrintStream log) {
    this.work = work;
    this.runsPerCell = runsPerCell;
    this.guestDir = guestDir;
    this.limitMs = secondsLimit * 1000L;
    this.workloads = List.copyOf(workloads);
    this.methods = List.copyOf(methods);
    this.log = log;
  }

  /** The controller's starting point for {@code ferry migrate live VM --to HOST}: the request the CLI sends without flags. */
  static LivePolicy defaults(String vm, String to) {
    return LivePolicy.of(new LiveMigrationRequest(vm, to, null, null, null, null, null, null, null, null, null));
  }

  Map<String, Object> run() throws Exception {
    Path shared = Files.createDirectories(work.resolve("shared"));
    kernel = Files.copy(guestDir.resolve("vmlinuz"), shared.resolve("vmlinuz"));
    initrd = Files.copy(guestDir.resolve("initrd.img"), shared.resolve("initrd.img"));
    var r = new LinkedHashMap<String, Object>();
    r.put("guest_ram_requested_bytes", GUEST_BYTES);
    r.put("mem_workload_mib", MEM_MIB);
    r.put("seconds_limit", limitMs / 1000);
    r.put("methods", methods.stream().map(m -> m.id).toList());
    r.put("runs_per_cell", runsPerCell);
    r.put("loadavg_start", loadAverage());
    var peers = new LinkedHashMap<String, Object>();
    for (Method m : methods) {
      if (m.peer() == null) continue;
      Peer p = m.peer();
      peers.put(m.id, Map.of("reference", p.reference(), "capabilities", p.capabilities(), "parameters", p.parameters(GUEST_BYTES)));
    }
    r.put("peers", peers);
    LivePolicy starting = defaults("probe", LiveCluster.B);
    r.put("ferry_source_capabilities", starting.sourceCapabilities());
    r.put("ferry_source_parameters", starting.sourceParameters(GUEST_BYTES));
    r.put("ferry_target_capabilities", starting.targetCapabilities());
    network = BenchNetwork.create(work, r, log);
    try (LiveCluster c = LiveCluster.start(work, shared)) {
      cluster = c;
      a = c.a;
      b = c.b;
      if (network != null) network.register(c.ferry);
      var out = new ArrayList<Map<String, Object>>();
      int cells = workloads.size() * methods.size() * runsPerCell;
      int done = 0;
      long b0 = System.nanoTime();
      for (Workload w : workloads) {
        var wr = new LinkedHashMap<String, Object>();
        wr.put("workload", w.name());
        wr.put("requested_rate_mib_s", w.rateMibS() == null ? null : w.rateMibS() == 0 ? "max" : w.rateMibS());
        wr.put("working_set_mib", w.rateMibS() == null ? null : w.mib());
        var samples = new LinkedHashMap<String, List<Map<String, Object>>>();
        for (Method m : methods) samples.put(m.id, new ArrayList<>());
        // interleaved: run 1 of every method, then run 2, so that a load spike of the shared machine hits all alike;
        // each round starts one method later, so that no method always runs first after a workload's start or
        // always follows the same one
        for (int i = 1; i <= runsPerCell; i++) {
          for (int k = 0; k < methods.size(); k++) {
            Method m = methods.get((k + i - 1) % methods.size());
            done++;
            long elapsedS = ms(b0) / 1000;
            long leftS = done == 1 ? estimateSeconds(workloads, methods.size(), runsPerCell, limitMs / 1000)
                : elapsedS * (cells - done + 1) / (done - 1);
            log.printf("== [%d/%d] %s, %s, run %d of %d (%d s so far, about %d s left)%n", done, cells, w.name(), m.label, i,
                runsPerCell, elapsedS, leftS);
            Map<String, Object> one;
            try {
              one = m == Method.FERRY ? runFerry(w, r, i) : runDirect(w, m, r, i);
            } catch (RuntimeException e) {
              one = new LinkedHashMap<>();
              one.put("method", m.id);
              one.put("converged", false);
              one.put("outcome", "error");
              one.put("error", e.getMessage());
              log.println("   FAILED: " + e.getMessage());
            }
            one.put("run", i);
            one.putIfAbsent("outcome", outcome(one));
            samples.get(m.id).add(one);
            log.println("   " + LiveStats.brief(one));
          }
        }
        wr.put("samples", samples);
        LiveStats.summarize(wr);
        out.add(wr);
      }
      r.put("workloads", out);
      r.put("loadavg_end", loadAverage());
    } finally {
      if (network != null) network.close();
    }
    return r;
  }

  /** (b): the VM made and moved by the controller, as a user does it with the CLI. */
  private Map<String, Object> runFerry(Workload w, Map<String, Object> top, int run) throws Exception {
    String name = "live-" + w.name() + "-ferry-" + run;
    var out = new LinkedHashMap<String, Object>();
    out.put("method", Method.FERRY.id);
    Path srcConsole = LiveCluster.console(work, LiveCluster.A, name);
    Path dstConsole = LiveCluster.console(work, LiveCluster.B, name);
    FerryCli ferry = cluster.ferry;
    boolean created = false;
    StreamClient client = null;
    try {
      var create = new ArrayList<>(List.of("vm", "create", name, "--host", LiveCluster.A, "--memory",
          (GUEST_BYTES >> 20) + "M", "--kernel", kernel.toString(), "--initrd", initrd.toString(), "--append", w.append()));
      if (network != null) create.addAll(List.of("--nic", network.name()));
      VmView vm = ferry.json(VmView.class, create.toArray(String[]::new));
      created = true;
      AgentVmStatus st = a.vm(name);
      noteGuest(top, st);
      warmUp(w, srcConsole, out);
      if (network != null) client = network.connect(srcConsole, vm.nics().getFirst().mac());
      // as a user would before a migration they care about: the measurement it makes is the one the migration's record keeps
      try {
        MigrationPrediction dry = ferry.json(MigrationPrediction.class, migrateArgs(w, name, "--dry-run"));
        out.put("dry_run_outcome", dry.outcome());
      } catch (RuntimeException e) {
        log.println("   dry run failed: " + e.getMessage());
      }
      long mig0Pos = position(srcConsole);
      long t0 = System.nanoTime();
      MigrationView v = ferry.json(MigrationView.class, migrateArgs(w, name, "--detach"));
      out.put("migration_id", v.id());
      Long cancelledAt = null;
      // the limit counts from the copy's start, as for (a) and (c): not the controller's preflight and target preparation
      Long copyT0 = null;
      long cpu0 = 0;
      String consoleDuring = "";
      var passes = new PassLog();
      while (v.status() == MigrationStatus.RUNNING) {
        passes.note(copyT0 == null ? 0 : ms(copyT0), sourceStatsQuietly(name, v.id()));
        if (copyT0 == null && !v.phase().equals("pending") && !v.phase().equals("preparing_target")) {
          copyT0 = System.nanoTime();
          cpu0 = cpuNanos();
        }
        // read while it lasts: the source's run directory goes with the vm once the controller completed the handover
        String console = read(srcConsole, mig0Pos);
        if (!console.isEmpty()) consoleDuring = console;
        long el = copyT0 == null ? 0 : ms(copyT0);
        if (cancelledAt == null && el > limitMs && !v.postcopy()) {
          log.printf("   not converged within %d s: ferry migration cancel %s%n", limitMs / 1000, v.id());
          try {
            ferry.run("migration", "cancel", v.id());
          } catch (IllegalStateException e) {
            log.println("   cancel refused: " + e.getMessage()); // it may have passed its point of no return meanwhile
          }
          cancelledAt = el;
        }
        if (ms(t0) > limitMs + 120_000) throw new IllegalStateException("migration " + v.id() + " still running after the limit + 120 s");
        Thread.sleep(POLL.toMillis());
        v = ferry.migration(v.id());
      }
      if (copyT0 != null) putControlCpu(out, cpu0, ms(copyT0));
      putDuring(out, memRates(consoleDuring));
      out.put("pass_log", passes.rows());
      putPrediction(out, v.prediction());
      out.put("status", v.status().name().toLowerCase(Locale.ROOT));
      out.put("phase", v.phase());
      out.put("postcopy_used", v.postcopy());
      out.put("escalations", v.escalations());
      out.put("plan", v.plan());
      // the record's figures: what the user is shown
      out.put("end_to_end_ms", v.totalMs());
      out.put("downtime_qemu_ms", v.downtimeMs());
      out.put("controller_observed_pause_ms", v.observedPauseMs());
      out.put("bytes_sent", v.transferredBytes());
      out.put("passes", (long) v.passes());
      // the source agent keeps its record of the handed-over migration: QEMU's own timings
      MigrationStats s = sourceStats(name);
      if (s != null) {
        out.put("total_ms", s.wallTimeMs());
        out.put("qemu_total_ms", s.totalTimeMs());
        out.put("pause_ms", s.pauseMs());
        out.put("postcopy_requests", s.postcopyRequests());
        out.put("last_dirty_rate_mib_s", StorageBench.round(s.dirtyRateBytesPerS() / 1048576.0));
        out.put("last_mbps", StorageBench.round(s.mbps()));
        out.put("qemu_status", s.status());
      }
      if (client != null) network.measure(client, out, work.resolve(LiveCluster.A), name, targetStatus(name, v));
      if (v.status() == MigrationStatus.SUCCEEDED) {
        out.put("converged", true);
        VmView moved = ferry.json(VmView.class, "vm", "show", name);
        out.put("resumed_on_target_running", LiveCluster.B.equals(moved.host()) && moved.state() == dev.ferry.api.VmState.RUNNING);
        out.put("target_heartbeat_after_resume", heartbeatAdvances(dstConsole));
        out.put("target_mem_errors", memErrors(read(dstConsole, 0)));
      } else {
        out.put("converged", false);
        if (cancelledAt == null) out.put("aborted_by", "ferry");
        String why = v.reason() == null ? "" : ": " + v.reason();
        out.put("reason", cancelledAt != null ? "not converged within " + limitMs / 1000 + " s, cancelled" + why
            : v.status().name().toLowerCase(Locale.ROOT) + why);
        out.put("cancelled_after_ms", cancelledAt != null ? cancelledAt : v.totalMs());
        VmView after = ferry.json(VmView.class, "vm", "show", name);
        out.put("source_state_after_cancel", LiveCluster.A.equals(after.host())
            ? after.state().name().toLowerCase(Locale.ROOT) : "on " + after.host());
        out.put("source_heartbeat_after_cancel", heartbeatAdvances(srcConsole));
        log.printf("   %s; source %s, heartbeat advancing: %s%n", out.get("reason"), out.get("source_state_after_cancel"),
            out.get("source_heartbeat_after_cancel"));
      }
      return out;
    } finally {
      if (client != null) client.close();
      if (created) {
        quietly(() -> ferry.run("vm", "kill", name));
        quietly(() -> ferry.run("vm", "delete", name));
      }
    }
  }

  /** The target's view after the controller's run: when it resumed the guest, what it announced; null without a switchover. */
  private IncomingStatus targetStatus(String name, MigrationView v) {
    if (v.status() != MigrationStatus.SUCCEEDED) return null;
    try {
      return b.incomingStatus(name);
    } catch (RuntimeException e) {
      log.println("   the target agent has no record of the migration: " + e.getMessage());
      return null;
    }
  }

  private MigrationStats sourceStats(String name) {
    try {
      return a.outgoingStats(name);
    } catch (RuntimeException e) {
      log.println("   the source agent has no record of the migration: " + e.getMessage());
      return null;
    }
  }

  /** (a) and (c): the bench calls the agents itself, one migration without any orchestration. */
  private Map<String, Object> runDirect(Workload w, Method m, Map<String, Object> top, int run) throws Exception {
    String name = "live-" + w.name() + "-" + m.id + "-" + run;
    String id = name + "-1";
    var out = new LinkedHashMap<String, Object>();
    out.put("method", m.id);
    Path srcConsole = LiveCluster.console(work, LiveCluster.A, name);
    Path dstConsole = LiveCluster.console(work, LiveCluster.B, name);
    List<AgentNic> nics = network == null ? null : List.of(network.nic(++runs));
    var def = new AgentVmDefinition(name, 1, GUEST_BYTES, "q35", "qemu64", kernel.toString(), initrd.toString(), w.append(),
        List.of(), nics);
    StreamClient client = null;
    boolean targetPrepared = false;
    boolean onTarget = false;
    boolean sourceRunning = false;
    try {
      a.defineVm(name, def);
      AgentVmStatus started = a.start(name);
      sourceRunning = true;
      AgentVmStatus st = a.vm(name);
      top.putIfAbsent("accelerator", started.accelerator());
      noteGuest(top, st);
      long given = st.memoryGivenBytes();
      warmUp(w, srcConsole, out);
      if (nics != null) client = network.connect(srcConsole, nics.getFirst().mac());

      LivePolicy policy = defaults(name, LiveCluster.B);
      Peer peer = m.peer();
      boolean raw = m == Method.RAW;
      Map<String, Boolean> tCaps;
      Map<String, Object> tParams;
      Map<String, Boolean> sCaps;
      Map<String, Object> sParams;
      if (peer != null) {
        sCaps = peer.capabilities();
        sParams = peer.parameters(given);
        // the stream's format must match on the target; auto-converge only throttles the source (qemu-notes)
        var t = new LinkedHashMap<>(sCaps);
        t.remove("auto-converge");
        tCaps = t;
        tParams = Map.of();
      } else {
        tCaps = raw ? Map.of() : policy.targetCapabilities();
        tParams = raw ? Map.of() : policy.targetParameters();
        sCaps = raw ? Map.of() : policy.sourceCapabilities();
        sParams = raw ? Map.of() : policy.sourceParameters(given);
      }
      if (w.linkMibS() != null) {
        // the emulated link: the method's own max-bandwidth where lower, else the link's (QEMU's default is 128 MiB/s)
        long link = w.linkMibS() * 1048576L;
        long own = sParams.get("max-bandwidth") instanceof Number n ? n.longValue() : 128L << 20;
        var capped = new LinkedHashMap<>(sParams);
        capped.put("max-bandwidth", Math.min(own, link));
        sParams = capped;
      }
      out.put("capabilities", sCaps);
      out.put("parameters", sParams);

      var resolved = new AgentVmDefinition(name, 1, GUEST_BYTES, st.machineType(), "qemu64", kernel.toString(),
          initrd.toString(), w.append(), List.of(), nics);
      long e0 = System.nanoTime();
      IncomingReady ready = b.within(Duration.ofSeconds(60)).incoming(name,
          new IncomingRequest(id, resolved, given, tCaps, tParams, List.of()));
      targetPrepared = true;
      long mig0Pos = position(srcConsole);
      long t0 = System.nanoTime();
      long cpu0 = cpuNanos();
      a.outgoing(name, new OutgoingRequest(id, ready.migrationUri(), sCaps, sParams, null));
      MigrationStats s;
      String stopReason = null;
      var passes = new PassLog();
      var actions = new ArrayList<String>();
      while (true) {
        s = a.outgoingStats(name);
        passes.note(ms(t0), s);
        if (s.phase().completed()) break;
        if (s.phase().abandoned()) throw new IllegalStateException("migration " + s.phase() + ": " + s.error());
        if (peer != null) {
          long at = ms(t0);
          switch (peer.step(at, s)) {
            case null -> { }
            case Peer.Tune t -> {
              try {
                a.tuneOutgoing(name, new MigrationTuning(t.parameters()));
                actions.add(at + " ms: " + t.note());
              } catch (RuntimeException e) {
                // it may have completed meanwhile: the next poll sees that
                actions.add(at + " ms: " + t.note() + " (refused: " + e.getMessage() + ")");
              }
            }
            case Peer.Abort ab -> {
              stopReason = m.id + " aborted it: " + ab.reason();
              out.put("aborted_by", m.id);
            }
          }
          if (stopReason != null) break;
        }
        if (ms(t0) > limitMs) {
          stopReason = "not converged within " + limitMs / 1000 + " s";
          break;
        }
        Thread.sleep(SOURCE_POLL.toMillis());
      }
      long pollMs = ms(t0);
      putControlCpu(out, cpu0, pollMs);
      out.put("pass_log", passes.rows());
      if (peer != null) out.put("policy_actions", actions);
      putDuring(out, memRates(read(srcConsole, mig0Pos)));
      out.put("postcopy_used", false);

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
        if (client != null) network.measure(client, out, work.resolve(LiveCluster.A), name, null);
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
        if (client != null) network.measure(client, out, work.resolve(LiveCluster.A), name, fin);
        out.put("target_heartbeat_after_resume", heartbeatAdvances(dstConsole));
        out.put("target_mem_errors", memErrors(read(dstConsole, 0)));
      }
      return out;
    } finally {
      if (client != null) client.close();
      if (targetPrepared) quietly(() -> b.rollBackIncoming(name));
      if (onTarget) quietly(() -> b.kill(name));
      if (sourceRunning) quietly(() -> a.kill(name));
    }
  }

  /** {@code ferry migrate live VM --to HOST}, every flag at its default but the emulated link's {@code --bandwidth} */
  private static String[] migrateArgs(Workload w, String name, String last) {
    var args = new ArrayList<>(List.of("migrate", "live", name, "--to", LiveCluster.B));
    if (w.linkMibS() != null) args.addAll(List.of("--bandwidth", String.valueOf(w.linkMibS())));
    args.add(last);
    return args.toArray(String[]::new);
  }

  /** The source's stats while the controller runs the migration, read-only from the agent's cache; null before it started. */
  private MigrationStats sourceStatsQuietly(String name, String migrationId) {
    try {
      MigrationStats s = a.outgoingStats(name);
      return s != null && migrationId.equals(s.migrationId()) ? s : null;
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** Ferry's own prediction, made as the migration started, next to what happened. */
  private static void putPrediction(Map<String, Object> out, MigrationPrediction p) {
    if (p == null) return;
    out.put("predicted_total_ms", p.predictedTotalMs());
    out.put("predicted_downtime_ms", p.predictedDowntimeMs());
    out.put("predicted_outcome", p.outcome());
    out.put("prediction_link_mib_s", p.linkMibS());
    out.put("prediction_link_source", p.linkSource());
    out.put("prediction_dirty_rate_mib_s", p.dirtyRateMibS());
  }

  /** converged, post-copy, aborted (by the bench's limit, a peer's own policy or Ferry's convergence policy), error */
  static String outcome(Map<String, Object> one) {
    if (one.get("error") != null) return "error";
    if (Boolean.TRUE.equals(one.get("converged"))) return Boolean.TRUE.equals(one.get("postcopy_used")) ? "post-copy" : "converged";
    if (one.get("aborted_by") != null) return "aborted by " + one.get("aborted_by");
    Object reason = one.get("reason");
    if (reason != null && reason.toString().startsWith("not converged within")) return "cut at the bench's limit";
    return "aborted";
  }

  /** Estimated seconds for the whole matrix: a boot and warm-up per run, the copy, the checks after it. */
  static long estimateSeconds(List<Workload> workloads, int methods, int runs, long limitS) {
    long s = 20;
    // measured on this 2-core machine under load: a boot and warm-up take 15-25 s under TCG
    for (Workload w : workloads) s += (long) methods * runs * (w.linkMibS() != null ? limitS + 22 : 28);
    return s;
  }

  /** Other QEMUs on the machine skew every number here: the report says how loaded it was. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static void noteGuest(Map<String, Object> top, AgentVmStatus st) {
    if (st.accelerator() != null) top.putIfAbsent("accelerator", st.accelerator());
    top.putIfAbsent("guest_ram_given_bytes", st.memoryGivenBytes());
    top.putIfAbsent("memory_adjustment", st.memoryAdjustment());
  }

  /** Waits for the guest to boot and, with a writer, for its first reports: the rate before the migration. */
  private void warmUp(Workload w, Path console, Map<String, Object> out) throws Exception {
    awaitLine(console, 0, "FERRY READY", 120_000);
    long warm = position(console);
    if (w.rateMibS() != null) awaitCount(console, warm, MEM, 3, 30_000);
    else Thread.sleep(1000);
    var before = memRates(read(console, warm));
    out.put("guest_rate_before_mib_s", mean(before));
    out.put("guest_rate_before_max_mib_s", max(before));
  }

  private static void putDuring(Map<String, Object> out, List<Double> during) {
    out.put("guest_rate_during_mib_s", mean(during));
    out.put("guest_rate_during_max_mib_s", max(during));
    out.put("guest_reports_during", during.size());
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

  /** Side by side: Ferry / raw defaults, and (c) / (b); a method left out of the run gives none. */
  static Map<String, Object> ratios(Map<String, Map<String, Object>> runs) {
    var r = new LinkedHashMap<String, Object>();
    Map<String, Object> raw = runs.get("raw");
    Map<String, Object> ferry = runs.get("ferry");
    Map<String, Object> params = runs.get("ferry-params");
    r.put("ferry_vs_raw_total", ratio(ferry, raw, "total_ms"));
    r.put("ferry_vs_raw_end_to_end", ratio(ferry, raw, "end_to_end_ms"));
    r.put("ferry_vs_raw_downtime", ratio(ferry, raw, "downtime_qemu_ms"));
    r.put("ferry_vs_raw_pause", ratio(ferry, raw, "pause_ms"));
    r.put("params_vs_ferry_total", ratio(params, ferry, "total_ms"));
    r.put("params_vs_ferry_downtime", ratio(params, ferry, "downtime_qemu_ms"));
    return r;
  }

  /** A ratio when both converged, else a sentence saying which did not; null when either was not run. */
  private static Object ratio(Map<String, Object> x, Map<String, Object> y, String key) {
    if (x == null || y == null) return null;
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

  private static Double max(List<Double> v) {
    return v.isEmpty() ? null : v.stream().mapToDouble(Double::doubleValue).max().getAsDouble();
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

  /** This process's CPU time (controller, agents, CLI and bench alike), in ns. */
  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /**
   * The CPU this process (the control plane: controller, agents, CLI, bench) used while the copy
   * ran, as a share of one CPU: on 2 cores under TCG it is taken from the guest's vCPU and QEMU's
   * migration thread, so a method whose management polls more pays for it in its total.
   */
  private static void putControlCpu(Map<String, Object> out, long cpu0, long windowMs) {
    long cpuMs = (cpuNanos() - cpu0) / 1_000_000;
    out.put("control_cpu_ms", cpuMs);
    out.put("control_cpu_share", windowMs <= 0 ? null : Math.round(cpuMs * 100.0 / windowMs) / 100.0);
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
