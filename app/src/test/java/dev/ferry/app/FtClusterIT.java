package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.GuestLine;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault tolerance through the CLI on a local cluster of two hosts whose agents probe Ferry's QEMU
 * (issue 12; needs the FT build, so it runs under {@code ./ferry test-ft}, not {@code ./ferry
 * test}): an FT-ready VM is refused what it may not do, protected with a secondary on host2
 * (checkpoints counting, both QEMUs unprivileged and sandboxed), refused stop, delete and
 * migration while protected, and disabled back to a plain VM; a killed secondary leaves the primary
 * unprotected; a planned {@code ft failover} moves the VM to host2; a primary host frozen whole
 * (agent, fencer and QEMU SIGSTOPped: no FIN, its COLO connection stays up) is taken over by its
 * secondary on host1 once its fencer was silent 800 ms; a primary cut off from both the controller
 * and its secondary (both agents SIGSTOPped) fences its own guest and is taken over by host2, one
 * copy running; a primary whose agent restarts is left alone (its fencer heartbeats on and is
 * re-adopted); and a primary killed (agent and QEMU, SIGKILL) is taken over by its secondary on
 * host1. The guest never restarts (same boot, its
 * heartbeat counter going on) and its memory and disk self-checks stay clean. The tests share the
 * cluster and run in order. Protections that end unprotected are enabled {@code --no-reprotect}:
 * these cells look at the unprotected VM; automatic re-protection is FtNetworkIT's (three hosts).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FtClusterIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir static Path dir;

  private static final Duration BOOT = Duration.ofSeconds(90);
  private static FerryProcess ferry;
  private static Path kernel;
  private static Path initrd;
  private static GuestLine.Heartbeat firstBeat;

  @BeforeAll
  static void clusterUp() throws Exception {
    FtTestCluster cluster = FtTestCluster.up(dir, 2, owned);
    ferry = cluster.ferry();
    kernel = cluster.kernel();
    initrd = cluster.initrd();
  }

  @AfterAll
  static void down() {
    if (ferry != null) ferry.run("cluster", "down");
  }

  @Test
  @Order(1)
  void refusals_changeNothing() throws Exception {
    JsonNode web = ferry.ok("vm", "create", "web", "--host", "host1", "--memory", "128M", "--kernel", kernel.toString(),
        "--initrd", initrd.toString(), "--append", TestGuest.append("ferry.mem=16:4 ferry.disk=1:8"), "--disk", "32M@local",
        "--ft-ready", "--json").json();
    owned.own(web.get("pid").asLong());
    assertThat(web.get("machine_type").asText()).startsWith("pc-i440fx-");
    GuestConsole console = ferry.console("host1", "web");
    console.await(GuestLine.DiskStatus.class, d -> d.block() > 0, BOOT);
    firstBeat = console.awaitHeartbeatAfter(0, BOOT);
    ferry.ok("vm", "create", "plain", "--host", "host1", "--memory", "64M", "--kernel", kernel.toString(), "--initrd",
        initrd.toString(), "--append", TestGuest.append(""), "--disk", "16M@local", "--no-start");
    ferry.ok("vm", "create", "idle", "--host", "host1", "--memory", "64M", "--kernel", kernel.toString(), "--initrd",
        initrd.toString(), "--append", TestGuest.append(""), "--disk", "16M@local", "--ft-ready", "--no-start");

    refused("must run on another host", "ft", "enable", "web", "--secondary", "host1");
    refused("not known", "ft", "enable", "web", "--secondary", "host9");
    refused("only a running vm", "ft", "enable", "idle", "--secondary", "host2");
    ferry.ok("vm", "start", "plain");
    owned.own(ferry.ok("vm", "show", "plain", "--json").json().get("pid").asLong());
    refused("not created ft-ready", "ft", "enable", "plain", "--secondary", "host2");
    refused("not under fault tolerance", "ft", "status", "web");

    assertThat(ferry.ok("ft", "status", "--json").json()).isEmpty();
    assertThat(dir.resolve("hosts/host2/ft/web")).doesNotExist();
    ferry.ok("vm", "kill", "plain");
    ferry.ok("vm", "delete", "plain");
    ferry.ok("vm", "delete", "idle");
  }

  @Test
  @Order(2)
  void enable_protectsWithCountingCheckpoints_confinedQemus_andProtectedVmRefusesWhatItMayNotDo() throws Exception {
    long t0 = System.nanoTime();
    JsonNode st = ferry.ok("ft", "enable", "web", "--secondary", "host2", "--checkpoint-interval", "1000", "--json").json();
    long enableMs = (System.nanoTime() - t0) / 1_000_000;

    assertThat(st.get("state").asText()).as(st.toString()).isEqualTo("protected");
    assertThat(st.get("primary").asText()).isEqualTo("host1");
    assertThat(st.get("secondary").asText()).isEqualTo("host2");
    JsonNode first = awaitCheckpoints(3);
    JsonNode later = awaitCheckpoints(first.get("checkpoints").asLong() + 3);
    assertThat(later.at("/checkpoint_pause_ms/median").isNumber()).as(later.toString()).isTrue();
    assertThat(later.at("/checkpoint_pause_ms/max").asLong()).isGreaterThanOrEqualTo(
        later.at("/checkpoint_pause_ms/median").asLong());
    assertThat(later.get("last_checkpoint_at").isTextual()).isTrue();
    assertThat(later.get("failovers")).isEmpty();
    assertThat(ferry.ok("ft", "status").out()).contains("web").contains("protected").contains("host2");

    // both QEMUs of the pair run as the agent runs every QEMU: not root, under seccomp
    long primaryPid = ferry.ok("vm", "show", "web", "--json").json().get("pid").asLong();
    long secondaryPid = Long.parseLong(Files.readString(dir.resolve("hosts/host2/vms/web/run/qemu.pid")).strip());
    owned.own(secondaryPid);
    for (long pid : List.of(primaryPid, secondaryPid)) {
      String status = Files.readString(Path.of("/proc", Long.toString(pid), "status"));
      String uid = status.lines().filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow();
      assertThat(uid.split("\\s+")).as(pid + " " + uid).allSatisfy(id -> assertThat(id).isNotEqualTo("0"));
      assertThat(status.lines()).as("pid " + pid).contains("Seccomp:\t2");
      String cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ');
      assertThat(cmdline).as("pid " + pid).contains(" -sandbox on").contains("pc-i440fx-");
      assertThat(Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "exe")).toString())
          .as("the FT build, not the system's QEMU").isNotEqualTo("/usr/bin/qemu-system-x86_64");
    }

    refused("disable it first", "vm", "stop", "web");
    refused("disable it first", "vm", "delete", "web");
    refused("disable it first", "migrate", "live", "web", "--to", "host2", "--copy-storage");
    refused("already under fault tolerance", "ft", "enable", "web", "--secondary", "host2");
    // the refused stop left it running; a heartbeat taken during a checkpoint says paused (COLO stops the guest)
    assertThat(ferry.ok("vm", "show", "web", "--json").json().get("state").asText()).isIn("running", "paused");

    GuestConsole console = ferry.console("host1", "web");
    var during = console.awaitHeartbeatAfter(console.lastHeartbeat().orElseThrow().seq() + 3, Duration.ofSeconds(60));
    assertThat(during.boot()).as("same boot").isEqualTo(firstBeat.boot());
    console.assertClean();
    System.out.printf("FtClusterIT: ft enable through the CLI %d ms (guest paused %s ms), %d checkpoints at 1000 ms,"
        + " pause median %s ms max %s ms%n", enableMs, st.path("enable_pause_ms").asText("-"),
        later.get("checkpoints").asLong(), later.at("/checkpoint_pause_ms/median").asText(),
        later.at("/checkpoint_pause_ms/max").asText());
  }

  @Test
  @Order(3)
  void disable_backToAPlainVm_secondaryGone_guestRunsOnClean() throws Exception {
    long secondaryPid = Long.parseLong(Files.readString(dir.resolve("hosts/host2/vms/web/run/qemu.pid")).strip());
    GuestConsole console = ferry.console("host1", "web");

    long t0 = System.nanoTime();
    ferry.ok("ft", "disable", "web");
    long disableMs = (System.nanoTime() - t0) / 1_000_000;

    refused("not under fault tolerance", "ft", "status", "web");
    assertThat(ProcessHandle.of(secondaryPid).filter(ProcessHandle::isAlive)).as("secondary qemu").isEmpty();
    assertThat(dir.resolve("hosts/host2/ft/web")).doesNotExist();
    try (var replicas = Files.list(dir.resolve("hosts/host2/local"))) {
      assertThat(replicas.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("replica"));
    }
    var after = console.awaitHeartbeatAfter(console.lastHeartbeat().orElseThrow().seq() + 3, Duration.ofSeconds(60));
    assertThat(after.boot()).as("same boot: the guest never restarted").isEqualTo(firstBeat.boot());
    long gen = console.await(GuestLine.DiskStatus.class, d -> true, Duration.ofSeconds(30)).gen();
    console.await(GuestLine.DiskStatus.class, d -> d.gen() > gen, Duration.ofSeconds(60));
    console.assertClean();
    assertThat(ferry.ok("vm", "show", "web", "--json").json().get("state").asText()).isEqualTo("running");
    System.out.printf("FtClusterIT: ft disable through the CLI %d ms%n", disableMs);
  }

  @Test
  @Order(4)
  void secondaryKilled_primaryRunsOnUnprotected_thenDisableAndStop() throws Exception {
    ferry.ok("ft", "enable", "web", "--no-reprotect", "--secondary", "host2", "--checkpoint-interval", "1000");
    awaitCheckpoints(2);
    long secondaryPid = Long.parseLong(Files.readString(dir.resolve("hosts/host2/vms/web/run/qemu.pid")).strip());
    owned.own(secondaryPid);
    GuestConsole console = ferry.console("host1", "web");

    long t0 = System.nanoTime();
    ProcessHandle.of(secondaryPid).orElseThrow().destroyForcibly();
    JsonNode st;
    long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!(st = ferry.ok("ft", "status", "web", "--json").json()).get("state").asText().equals("unprotected")) {
      if (System.nanoTime() > until) throw new AssertionError("not unprotected 60 s after the secondary died: " + st);
      Thread.sleep(250);
    }
    long unprotectedMs = (System.nanoTime() - t0) / 1_000_000;

    assertThat(st.get("reason").asText()).contains("host2");
    assertThat(st.get("failovers")).singleElement().satisfies(f -> assertThat(f.get("to").asText()).isEqualTo("host1"));
    var after = console.awaitHeartbeatAfter(console.lastHeartbeat().orElseThrow().seq() + 3, Duration.ofSeconds(60));
    assertThat(after.boot()).as("same boot: the primary ran on").isEqualTo(firstBeat.boot());
    long gen = console.await(GuestLine.DiskStatus.class, d -> true, Duration.ofSeconds(30)).gen();
    console.await(GuestLine.DiskStatus.class, d -> d.gen() > gen, Duration.ofSeconds(60));
    console.assertClean();
    refused("disable it first", "vm", "stop", "web");

    ferry.ok("ft", "disable", "web");
    assertThat(dir.resolve("hosts/host2/ft/web")).doesNotExist();
    // a plain VM again: stop is allowed
    ferry.ok("vm", "stop", "web", "--timeout", "30s");
    System.out.printf("FtClusterIT: secondary killed -> unprotected seen through the CLI after %d ms, takeover %s ms%n",
        unprotectedMs, st.at("/failovers/0/takeover_ms").asText());
  }

  @Test
  @Order(5)
  void plannedFailover_guestGoesOnOnHost2_sameBoot_clean_oldCopyRemoved() throws Exception {
    String before = firstBeat.boot();
    ferry.ok("vm", "start", "web");
    long primaryPid = ferry.ok("vm", "show", "web", "--json").json().get("pid").asLong();
    owned.own(primaryPid);
    GuestConsole host1 = ferry.console("host1", "web");
    firstBeat = host1.await(GuestLine.Heartbeat.class, h -> !h.boot().equals(before), BOOT);
    ferry.ok("ft", "enable", "web", "--no-reprotect", "--secondary", "host2", "--checkpoint-interval", "1000");
    awaitCheckpoints(2);
    owned.own(Long.parseLong(Files.readString(dir.resolve("hosts/host2/vms/web/run/qemu.pid")).strip()));
    long seqBefore = host1.lastHeartbeat().orElseThrow().seq();
    double[] load = loadAverage();

    long t0 = System.nanoTime();
    JsonNode st = ferry.ok("ft", "failover", "web", "--json").json();
    long failoverMs = (System.nanoTime() - t0) / 1_000_000;

    assertThat(st.get("state").asText()).as(st.toString()).isEqualTo("unprotected");
    assertThat(st.get("primary").asText()).isEqualTo("host2");
    JsonNode f = st.get("failovers").get(st.get("failovers").size() - 1);
    assertThat(f.get("from").asText()).isEqualTo("host1");
    assertThat(f.get("to").asText()).isEqualTo("host2");
    assertThat(f.get("cause").asText()).contains("planned");
    assertThat(f.get("takeover_ms").isNumber()).as(f.toString()).isTrue();
    JsonNode vm = ferry.ok("vm", "show", "web", "--json").json();
    assertThat(vm.get("host").asText()).isEqualTo("host2");
    assertThat(vm.at("/disks/0/path").asText()).contains("hosts/host2/").contains("replica");
    GuestConsole host2 = ferry.console("host2", "web");
    var after = host2.await(GuestLine.Heartbeat.class, h -> h.boot().equals(firstBeat.boot()) && h.seq() > seqBefore + 2,
        Duration.ofSeconds(60));
    assertThat(after.boot()).as("same boot on host2").isEqualTo(firstBeat.boot());
    awaitDiskProgress(host2);
    host2.assertClean();
    assertThat(ferry.ok("ft", "status", "web").out()).contains("host1 -> host2").contains("planned");
    // the old primary's QEMU and its copy go (a planned switch leaves nothing behind on host1)
    awaitGone(primaryPid, dir.resolve("hosts/host1/vms/web"));
    System.out.printf("FtClusterIT: planned ft failover through the CLI %d ms, takeover %s ms (load average %.2f %.2f"
        + " %.2f)%n", failoverMs, f.get("takeover_ms").asText(), load[0], load[1], load[2]);
    ferry.ok("ft", "disable", "web");
    assertThat(ferry.ok("vm", "show", "web", "--json").json().get("state").asText()).isIn("running", "paused");
  }

  /**
   * The primary's host (host2 now) stops whole without a FIN: its agent, its fencer and its QEMU
   * SIGSTOPped at once, as a frozen or cut-off host (the COLO connection stays ESTABLISHED), at the
   * default 2000 ms interval. The secondary on host1 takes over once the fencer was silent 800 ms
   * (the checkpoint guard would have waited 2.5 s); the guest runs on there in the same boot, clean.
   * The frozen copy is then SIGKILLed and host2's agent resumed, which removes it.
   */
  @Test
  @Order(6)
  void primaryHostFrozen_connectionUp_secondaryTakesOverOnItsFencersSilence() throws Exception {
    ferry.ok("ft", "enable", "web", "--no-reprotect", "--secondary", "host1");
    awaitCheckpoints(2);
    long primaryPid = ferry.ok("vm", "show", "web", "--json").json().get("pid").asLong();
    owned.own(primaryPid);
    owned.own(Long.parseLong(Files.readString(dir.resolve("hosts/host1/vms/web/run/qemu.pid")).strip()));
    long fencerPid = Long.parseLong(Files.readString(dir.resolve("hosts/host2/vms/web/ft-fencer.pid")).strip());
    owned.own(fencerPid);
    long agentPid = ferry.clusterFile().get("agents").get(1).get("pid").asLong();
    assertThat(ProcessHandle.of(fencerPid).flatMap(h -> h.info().commandLine()).orElse(""))
        .contains("dev.ferry.agent.ftpair.Fencer");
    GuestConsole host1 = ferry.console("host1", "web");
    int host1Lines = host1.rawLines().size();
    long seqBefore = ferry.console("host2", "web").lastHeartbeat().orElseThrow().seq();
    double[] load = loadAverage();

    long t0 = System.nanoTime();
    signal("-STOP", agentPid, fencerPid, primaryPid);
    JsonNode st;
    long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!(st = ferry.ok("ft", "status", "web", "--json").json()).get("state").asText().equals("unprotected")) {
      if (System.nanoTime() > until) throw new AssertionError("not failed over 60 s after the primary froze: " + st);
      Thread.sleep(100);
    }
    long seenMs = (System.nanoTime() - t0) / 1_000_000;

    JsonNode f = st.get("failovers").get(st.get("failovers").size() - 1);
    try {
      assertThat(st.get("primary").asText()).isEqualTo("host1");
      assertThat(f.get("from").asText()).isEqualTo("host2");
      assertThat(f.get("cause").asText()).as("decided on the fencer's silence, not the checkpoint guard")
          .contains("primary host host2 is lost or its guest fenced");
      var after = awaitNew(host1, host1Lines, GuestLine.Heartbeat.class,
          h -> h.boot().equals(firstBeat.boot()) && h.seq() > seqBefore + 2, Duration.ofSeconds(60));
      assertThat(newLines(host1, host1Lines, GuestLine.Heartbeat.class)).allSatisfy(
          h -> assertThat(h.boot()).isEqualTo(firstBeat.boot()));
      awaitDiskProgress(host1);
      host1.assertClean();
      System.out.printf("FtClusterIT: primary host frozen (agent+fencer+qemu SIGSTOP, 2000 ms interval) -> failover"
          + " seen through the CLI after %d ms, detected_ms %s, takeover_ms %s, guest beat %d (load average %.2f %.2f"
          + " %.2f)%n", seenMs, f.get("detected_ms").asText(), f.get("takeover_ms").asText(), after.seq(), load[0],
          load[1], load[2]);
    } finally {
      // the frozen copy must never run again: killed while stopped, then its agent resumes
      signal("-KILL", fencerPid, primaryPid);
      signal("-CONT", agentPid);
    }
    // the resumed agent answers: the controller removes the old copy (disk images kept after a lost host)
    awaitGone(primaryPid, dir.resolve("hosts/host2/vms/web"));
    ferry.ok("ft", "disable", "web");
    assertThat(ferry.ok("vm", "show", "web", "--json").json().get("host").asText()).isEqualTo("host1");
  }

  private static void signal(String sig, long... pids) throws Exception {
    var cmd = new java.util.ArrayList<>(List.of("kill", sig));
    for (long p : pids) cmd.add(Long.toString(p));
    assertThat(new ProcessBuilder(cmd).inheritIO().start().waitFor()).as(String.join(" ", cmd)).isZero();
  }

  /**
   * A primary cut off from both the controller and its secondary: host1's agent (through which its
   * fencer hears the controller) and host2's agent (whose listener answers the heartbeats)
   * SIGSTOPped. The fencer stops its own guest, SIGSTOP by pid, after 500 ms; once host2's agent is
   * back the controller finds the primary's fencer silent and fails over to host2, the guest going
   * on there in the same boot while the old copy stays stopped: exactly one copy runs.
   */
  @Test
  @Order(7)
  void primaryCutOffFromBoth_fencesItsOwnGuest_thenTheSecondaryTakesOver_oneCopyRuns() throws Exception {
    ferry.ok("ft", "enable", "web", "--no-reprotect", "--secondary", "host2");
    awaitCheckpoints(2);
    long primaryPid = ferry.ok("vm", "show", "web", "--json").json().get("pid").asLong();
    owned.own(primaryPid);
    owned.own(Long.parseLong(Files.readString(dir.resolve("hosts/host2/vms/web/run/qemu.pid")).strip()));
    long fencerPid = Long.parseLong(Files.readString(dir.resolve("hosts/host1/vms/web/ft-fencer.pid")).strip());
    owned.own(fencerPid);
    long agent1 = ferry.clusterFile().get("agents").get(0).get("pid").asLong();
    long agent2 = ferry.clusterFile().get("agents").get(1).get("pid").asLong();
    GuestConsole host2 = ferry.console("host2", "web");
    int host2Lines = host2.rawLines().size();
    long seqBefore = ferry.console("host1", "web").lastHeartbeat().orElseThrow().seq();
    double[] load = loadAverage();

    long t0 = System.nanoTime();
    signal("-STOP", agent1, agent2);
    long fencedMs;
    try {
      long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (!stopped(primaryPid)) {
        if (System.nanoTime() > until) throw new AssertionError("the cut-off primary's qemu was not fenced in 10 s");
        Thread.sleep(10);
      }
      fencedMs = (System.nanoTime() - t0) / 1_000_000;
      // the 500 ms count from the last answer heard, which came up to one 100 ms heartbeat round before the cut
      assertThat(fencedMs).as("not before 500 ms of hearing neither, less one heartbeat round").isGreaterThanOrEqualTo(400);
      // the fencer writes its state right after the SIGSTOP this loop saw
      Path stateFile = dir.resolve("hosts/host1/vms/web/ft-fencer.state");
      String why = Files.readString(stateFile);
      for (int i = 0; i < 100 && !why.contains("heard neither"); i++) {
        Thread.sleep(20);
        why = Files.readString(stateFile);
      }
      java.util.regex.Matcher silent = java.util.regex.Pattern.compile(
          "heard neither the secondary \\((\\d+) ms\\) nor the controller through the agent \\((\\d+) ms\\)").matcher(why);
      assertThat(silent.find()).as(why).isTrue();
      assertThat(Long.parseLong(silent.group(1))).as("secondary silent when fenced").isGreaterThanOrEqualTo(500);
      assertThat(Long.parseLong(silent.group(2))).as("controller silent when fenced").isGreaterThanOrEqualTo(500);
    } finally {
      signal("-CONT", agent2);
    }
    try {
      JsonNode st;
      long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (!(st = ferry.ok("ft", "status", "web", "--json").json()).get("state").asText().equals("unprotected")) {
        if (System.nanoTime() > until) throw new AssertionError("not failed over 60 s after the primary fenced: " + st);
        Thread.sleep(100);
      }
      long seenMs = (System.nanoTime() - t0) / 1_000_000;
      JsonNode f = st.get("failovers").get(st.get("failovers").size() - 1);
      assertThat(st.get("primary").asText()).isEqualTo("host2");
      assertThat(f.get("from").asText()).isEqualTo("host1");
      assertThat(f.get("cause").asText()).contains("primary host host1 is lost or its guest fenced");
      var after = awaitNew(host2, host2Lines, GuestLine.Heartbeat.class,
          h -> h.boot().equals(firstBeat.boot()) && h.seq() > seqBefore + 2, Duration.ofSeconds(60));
      assertThat(newLines(host2, host2Lines, GuestLine.Heartbeat.class)).allSatisfy(
          h -> assertThat(h.boot()).isEqualTo(firstBeat.boot()));
      assertThat(stopped(primaryPid)).as("the fenced copy on host1 stays stopped: one copy runs").isTrue();
      assertThat(Files.readString(dir.resolve("hosts/host1/vms/web/ft-fencer.state"))).contains("heard neither");
      awaitDiskProgress(host2);
      host2.assertClean();
      System.out.printf("FtClusterIT: primary cut off from both (its agent and the secondary's SIGSTOPped) -> its"
          + " fencer stopped its qemu %d ms later; failover seen through the CLI %d ms after the cut, detected_ms %s,"
          + " takeover_ms %s, guest beat %d (load average %.2f %.2f %.2f)%n", fencedMs, seenMs,
          f.get("detected_ms").asText(), f.get("takeover_ms").asText(), after.seq(), load[0], load[1], load[2]);
    } finally {
      signal("-KILL", primaryPid);
      signal("-CONT", agent1);
    }
    awaitGone(primaryPid, dir.resolve("hosts/host1/vms/web"));
    ferry.ok("ft", "disable", "web");
    assertThat(ferry.ok("vm", "show", "web", "--json").json().get("host").asText()).isEqualTo("host2");
  }

  /** Whether the process is stopped by a signal (state T), from /proc/PID/stat. */
  private static boolean stopped(long pid) throws java.io.IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    return stat.charAt(stat.lastIndexOf(')') + 2) == 'T';
  }

  /**
   * The primary's agent (host2) SIGKILLed and started again 3 s later (longer than the 800 ms
   * bound and the 2.5 s checkpoint guard at the default interval) while its QEMU and its fencer run
   * on: the fencer keeps heartbeating, nothing fails over, and the restarted agent re-adopts the
   * same fencer from its pid file (not a second one) and reports the VM protected, checkpoints
   * counting again.
   */
  @Test
  @Order(8)
  void primaryAgentRestarts_fencerHeartbeatsOn_noFailover_fencerReadopted() throws Exception {
    ferry.ok("ft", "enable", "web", "--secondary", "host1");
    awaitCheckpoints(2);
    owned.own(ferry.ok("vm", "show", "web", "--json").json().get("pid").asLong());
    owned.own(Long.parseLong(Files.readString(dir.resolve("hosts/host1/vms/web/run/qemu.pid")).strip()));
    long fencerPid = Long.parseLong(Files.readString(dir.resolve("hosts/host2/vms/web/ft-fencer.pid")).strip());
    owned.own(fencerPid);
    long agentPid = ferry.clusterFile().get("agents").get(1).get("pid").asLong();

    long t0 = System.nanoTime();
    ProcessHandle.of(agentPid).orElseThrow().destroyForcibly();
    while (System.nanoTime() - t0 < Duration.ofSeconds(3).toNanos()) {
      JsonNode st = ferry.ok("ft", "status", "web", "--json").json();
      assertThat(st.get("state").asText()).as(st.toString()).isEqualTo("protected");
      assertThat(st.get("failovers")).as(st.toString()).isEmpty();
      Thread.sleep(200);
    }
    ferry.ok("cluster", "up", "--hosts", "2");
    ferry.componentPids().forEach(owned::own);
    long downMs = (System.nanoTime() - t0) / 1_000_000;
    long checkpoints = ferry.ok("ft", "status", "web", "--json").json().get("checkpoints").asLong();
    JsonNode st = awaitCheckpoints(checkpoints + 2);
    assertThat(st.get("failovers")).as(st.toString()).isEmpty();
    assertThat(st.get("primary").asText()).isEqualTo("host2");
    assertThat(ProcessHandle.of(fencerPid).filter(ProcessHandle::isAlive)).as("the same fencer").isPresent();
    assertThat(Files.readString(dir.resolve("hosts/host2/vms/web/ft-fencer.pid")).strip())
        .as("re-adopted, not started again").isEqualTo(Long.toString(fencerPid));
    ferry.ok("ft", "disable", "web");
    long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (ProcessHandle.of(fencerPid).filter(ProcessHandle::isAlive).isPresent()) {
      if (System.nanoTime() > until) throw new AssertionError("the fencer " + fencerPid + " outlived ft disable");
      Thread.sleep(100);
    }
    System.out.printf("FtClusterIT: primary agent SIGKILLed and restarted after %d ms: no failover, same fencer%n",
        downMs);
  }

  /**
   * The primary (host2 now) dies whole: its agent and its QEMU SIGKILLed. The secondary on host1
   * takes over, the guest runs on there in the same boot, its heartbeat counter going on, its
   * self-checks clean, and {@code ft status} shows the failover with the measured times.
   */
  @Test
  @Order(9)
  void primaryAgentAndQemuKilled_secondaryTakesOver_sameBoot_clean() throws Exception {
    ferry.ok("ft", "enable", "web", "--no-reprotect", "--secondary", "host1", "--checkpoint-interval", "1000");
    awaitCheckpoints(3);
    long primaryPid = ferry.ok("vm", "show", "web", "--json").json().get("pid").asLong();
    owned.own(primaryPid);
    owned.own(Long.parseLong(Files.readString(dir.resolve("hosts/host1/vms/web/run/qemu.pid")).strip()));
    long agentPid = ferry.clusterFile().get("agents").get(1).get("pid").asLong();
    GuestConsole host2 = ferry.console("host2", "web");
    GuestConsole host1 = ferry.console("host1", "web");
    int host1Lines = host1.rawLines().size();
    long seqBefore = host2.lastHeartbeat().orElseThrow().seq();
    double[] load = loadAverage();

    long t0 = System.nanoTime();
    ProcessHandle.of(agentPid).orElseThrow().destroyForcibly();
    ProcessHandle.of(primaryPid).orElseThrow().destroyForcibly();
    JsonNode st;
    long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!(st = ferry.ok("ft", "status", "web", "--json").json()).get("state").asText().equals("unprotected")) {
      if (System.nanoTime() > until) throw new AssertionError("not failed over 60 s after the primary died: " + st);
      Thread.sleep(100);
    }
    long seenMs = (System.nanoTime() - t0) / 1_000_000;

    assertThat(st.get("primary").asText()).isEqualTo("host1");
    JsonNode f = st.get("failovers").get(st.get("failovers").size() - 1);
    assertThat(f.get("from").asText()).isEqualTo("host2");
    assertThat(f.get("to").asText()).isEqualTo("host1");
    assertThat(f.get("cause").asText()).contains("host2");
    assertThat(f.get("detected_ms").isNumber()).as(f.toString()).isTrue();
    assertThat(f.get("takeover_ms").isNumber()).as(f.toString()).isTrue();
    assertThat(st.get("reason").asText()).contains("failed over from host2");
    assertThat(ferry.ok("vm", "show", "web", "--json").json().get("host").asText()).isEqualTo("host1");
    // the guest goes on on host1: same boot, the counter past the last beat host2's console showed
    var after = awaitNew(host1, host1Lines, GuestLine.Heartbeat.class,
        h -> h.boot().equals(firstBeat.boot()) && h.seq() > seqBefore + 2, Duration.ofSeconds(60));
    long guestMs = (System.nanoTime() - t0) / 1_000_000;
    assertThat(after.boot()).isEqualTo(firstBeat.boot());
    var beats = newLines(host1, host1Lines, GuestLine.Heartbeat.class);
    assertThat(beats).as("every beat on host1 after the kill is of the same boot").allSatisfy(
        h -> assertThat(h.boot()).isEqualTo(firstBeat.boot()));
    awaitDiskProgress(host1);
    host1.assertClean();
    System.out.printf("FtClusterIT: primary agent+qemu SIGKILLed -> failover seen through the CLI after %d ms,"
        + " detected_ms %s, takeover_ms %s, guest beat %d past the last seen %d ms after the kill (load average"
        + " %.2f %.2f %.2f)%n", seenMs, f.get("detected_ms").asText(), f.get("takeover_ms").asText(), after.seq(),
        guestMs, load[0], load[1], load[2]);
  }

  private static <T extends GuestLine> List<T> newLines(GuestConsole c, int from, Class<T> kind) {
    List<String> raw = c.rawLines();
    return raw.subList(Math.min(from, raw.size()), raw.size()).stream().map(GuestLine::parse)
        .flatMap(java.util.Optional::stream).filter(kind::isInstance).map(kind::cast).toList();
  }

  private static <T extends GuestLine> T awaitNew(GuestConsole c, int from, Class<T> kind,
      java.util.function.Predicate<T> match, Duration timeout) throws InterruptedException {
    long until = System.nanoTime() + timeout.toNanos();
    while (true) {
      var hit = newLines(c, from, kind).stream().filter(match).findFirst();
      if (hit.isPresent()) return hit.get();
      if (System.nanoTime() > until) throw new AssertionError("no new " + kind.getSimpleName() + ":\n" + c.tail(15));
      Thread.sleep(50);
    }
  }

  /** Two more disk self-check rounds written from here on. */
  private static void awaitDiskProgress(GuestConsole c) throws InterruptedException {
    int from = c.rawLines().size();
    var first = awaitNew(c, from, GuestLine.DiskStatus.class, d -> true, Duration.ofSeconds(60));
    awaitNew(c, from, GuestLine.DiskStatus.class, d -> d.gen() > first.gen(), Duration.ofSeconds(60));
  }

  private static void awaitGone(long pid, Path vmDir) throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (ProcessHandle.of(pid).filter(ProcessHandle::isAlive).isPresent() || Files.exists(vmDir)) {
      if (System.nanoTime() > until) throw new AssertionError("the old copy is still there: pid " + pid + ", " + vmDir);
      Thread.sleep(200);
    }
  }

  private static double[] loadAverage() throws java.io.IOException {
    String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
    return new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2])};
  }

  private static JsonNode awaitCheckpoints(long atLeast) throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (true) {
      JsonNode st = ferry.ok("ft", "status", "web", "--json").json();
      assertThat(st.get("state").asText()).as(st.toString()).isEqualTo("protected");
      if (st.get("checkpoints").asLong() >= atLeast) return st;
      if (System.nanoTime() > until) throw new AssertionError("fewer than " + atLeast + " checkpoints: " + st);
      Thread.sleep(500);
    }
  }

  private static void refused(String says, String... args) {
    FerryProcess.Result r = ferry.run(args);
    assertThat(r.exit()).as(String.join(" ", args) + ": " + r).isNotZero();
    assertThat(r.err()).as(String.join(" ", args)).contains(says);
  }
}
