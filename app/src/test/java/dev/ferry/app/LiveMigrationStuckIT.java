package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9 B2 on real processes, through the CLI: past the point of no return a failure is not
 * terminal. The source agent is held at {@code outgoing.before-complete} (the guest already runs
 * on host2, which owns it) and SIGKILLed there; the migration stays {@code running} and says
 * {@code stuck}; then the controller is SIGKILLed too, and {@code ferry cluster up} brings both
 * back. Before, the migration ended {@code failed} ("a controller restart retries…") and nothing
 * ever retried it, leaving a paused source QEMU behind and the VM locked on the source host.
 * Checked as a user would: the VM runs on host2 only, same boot, self-checks clean, no QEMU on
 * host1, and the VM takes actions again (no lock left).
 */
class LiveMigrationStuckIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir static Path dir;

  private static final Duration BOOT = Duration.ofSeconds(90);
  private static final Duration SETTLE = Duration.ofSeconds(60);
  /**
   * The controller rides out an agent that does not answer for this long before it says stuck (a
   * minute in production, {@code FERRY_TEST_AGENT_GRACE}): long enough for the agents that
   * {@code cluster up} restarts to answer again, short enough not to wait out a minute here.
   */
  private static final Duration AGENT_GRACE = Duration.ofSeconds(10);
  private static final Duration STUCK = Duration.ofMinutes(3);
  private static final Duration MIGRATION_END = Duration.ofMinutes(4);
  private static final List<String> FINAL = List.of("succeeded", "failed", "cancelled");
  private static final String HOLD = "outgoing.before-complete";
  /** armed by one test only, through its {@code .arm} file */
  private static final String RESUME = "incoming.before-resume";
  private static FerryProcess ferry;
  private static ClusterChecks checks;
  private static Path faults;
  private static Path kernel;
  private static Path initrd;

  @BeforeAll
  static void clusterUp() throws Exception {
    faults = Files.createDirectories(dir.resolve("faults"));
    // agents inherit the environment of `cluster up`: only the source's complete step holds; so does the controller
    ferry = new FerryProcess(dir).withEnv("FERRY_FAULT_PAUSE_AT", HOLD).withEnv("FERRY_FAULT_DIR", faults.toString())
        .withEnv("FERRY_TEST_AGENT_GRACE", AGENT_GRACE.toSeconds() + "s");
    checks = new ClusterChecks(ferry, dir, owned);
    ferry.ok("cluster", "up", "--hosts", "2");
    ferry.componentPids().forEach(owned::own);
    Path guestDir = Files.createDirectories(dir.resolve("pools/shared/guest"));
    kernel = Files.copy(TestGuest.get().kernel(), guestDir.resolve("vmlinuz"));
    initrd = Files.copy(TestGuest.get().initrd(), guestDir.resolve("initrd.img"));
  }

  @AfterAll
  static void down() {
    if (ferry != null) ferry.run("cluster", "down");
  }

  @Test
  void sourceAgentKilledBeforeComplete_thenTheController_migrationStaysRunningAndFinishesOnTheTarget() throws Exception {
    GuestConsole source = checks.create("anchor", "ferry.mem=16:4", "shared", kernel, initrd);
    var hb = source.awaitHeartbeatAfter(2, BOOT);
    long sourceQemu = checks.show("anchor").get("pid").asLong();

    String id = ferry.ok("migrate", "live", "anchor", "--to", "host2", "--postcopy", "never", "--detach").out().strip();
    awaitFile(faults.resolve(HOLD + ".reached"), MIGRATION_END);
    JsonNode held = checks.show("anchor");
    assertThat(held.get("host").asText()).as("past the point of no return the owner is the target").isEqualTo("host2");
    owned.own(held.get("pid").asLong());

    long agentPid = agentPid("host1");
    kill(agentPid);
    // the restarted agent must not hold again
    Files.writeString(faults.resolve(HOLD + ".release"), "");
    JsonNode stuck = checks.awaitMigration(id, m -> FINAL.contains(m.get("status").asText())
        || !m.path("stuck").isNull() && !m.path("stuck").isMissingNode(), STUCK);
    assertThat(stuck.get("status").asText()).as(stuck.toString()).isEqualTo("running");
    assertThat(stuck.get("phase").asText()).isEqualTo("transferring");
    assertThat(stuck.get("stuck").asText()).contains("host1");

    kill(ferry.clusterFile().at("/controller/pid").asLong());
    ferry.ok("cluster", "up", "--hosts", "2");
    ferry.componentPids().forEach(owned::own);
    assertThat(agentPid("host1")).isNotEqualTo(agentPid);

    JsonNode end = checks.awaitMigration(id, m -> FINAL.contains(m.get("status").asText()), MIGRATION_END);
    assertThat(end.get("status").asText()).as(end.toString()).isEqualTo("succeeded");
    assertThat(end.get("phase").asText()).isEqualTo("done");
    assertThat(end.path("stuck").isNull()).as(end.toString()).isTrue();
    JsonNode after = checks.show("anchor");
    assertThat(after.get("host").asText()).isEqualTo("host2");
    assertThat(after.get("state").asText()).isEqualTo("running");
    owned.own(after.get("pid").asLong());
    GuestConsole target = ferry.console("host2", "anchor");
    var later = target.awaitHeartbeatAfter(hb.seq() + 2, SETTLE);
    assertThat(later.boot()).as("same boot: the guest was never restarted").isEqualTo(hb.boot());
    checks.awaitNoQemu("host1", "anchor", SETTLE);
    assertThat(ProcessHandle.of(sourceQemu).filter(ProcessHandle::isAlive)).as("the source qemu quit").isEmpty();
    source.assertClean();
    target.assertClean();
    assertThat(target.lines(dev.ferry.testsupport.GuestLine.Ready.class)).as("no boot on the target").isEmpty();
    var stop = ferry.run("vm", "stop", "anchor", "--timeout", "30s");
    assertThat(stop.exit()).as("no lock left: " + stop).isZero();
    assertThat(checks.show("anchor").get("state").asText()).isEqualTo("stopped");
    FaultRecord.write(dir, "transferring", "source agent SIGKILL, then controller SIGKILL", "rolled forward: succeeded");
  }

  /**
   * The uncovered cell of docs/faults.md, resuming_target × target QEMU death: the stream completed,
   * the target agent is held just before it resumes the guest, and its QEMU is SIGKILLed there.
   * Before, the controller retried the finish for ever (the guest paused on host1, dead on host2:
   * running nowhere). Now the source's complete copy resumes where it was: same QEMU, same boot,
   * memory self-checks clean, nothing left on host2, and the VM takes actions again.
   */
  @Test
  void targetQemuKilledBeforeItRanTheGuest_theSourceResumesItsCompleteCopy() throws Exception {
    GuestConsole source = checks.create("lazarus", "ferry.mem=16:4", "shared", kernel, initrd);
    source.awaitHeartbeatAfter(2, BOOT);
    long sourceQemu = checks.show("lazarus").get("pid").asLong();
    Path arm = Files.writeString(faults.resolve(RESUME + ".arm"), "");

    String id = ferry.ok("migrate", "live", "lazarus", "--to", "host2", "--postcopy", "never", "--detach").out().strip();
    awaitFile(faults.resolve(RESUME + ".reached"), MIGRATION_END);
    Files.delete(arm);
    var paused = source.lastHeartbeat().orElseThrow();
    kill(checks.qemuPid("host2", "lazarus"));
    Files.writeString(faults.resolve(RESUME + ".release"), "");

    JsonNode end = checks.awaitMigration(id, m -> FINAL.contains(m.get("status").asText()), MIGRATION_END);
    assertThat(end.get("status").asText()).as(end.toString()).isEqualTo("failed");
    assertThat(end.get("phase").asText()).isEqualTo("rolled_back");
    assertThat(end.get("reason").asText()).contains("died before the guest ever ran there");
    JsonNode after = checks.show("lazarus");
    assertThat(after.get("host").asText()).isEqualTo("host1");
    assertThat(after.get("state").asText()).isEqualTo("running");
    assertThat(after.get("pid").asLong()).as("the same source qemu runs it again").isEqualTo(sourceQemu);
    var later = source.awaitHeartbeatAfter(paused.seq() + 2, SETTLE);
    assertThat(later.boot()).as("same boot: the guest was never restarted").isEqualTo(paused.boot());
    source.assertClean();
    checks.awaitNoQemu("host2", "lazarus", SETTLE);
    var stop = ferry.run("vm", "stop", "lazarus", "--timeout", "30s");
    assertThat(stop.exit()).as("no lock left: " + stop).isZero();
    FaultRecord.write(dir, "resuming_target", "target QEMU SIGKILL before it resumed the guest",
        "rolled back: the completed source resumed its copy; same boot, self-checks clean, nothing left on host2");
  }

  private static long agentPid(String host) {
    for (JsonNode a : ferry.clusterFile().get("agents")) {
      if (a.get("name").asText().equals(host)) return a.get("pid").asLong();
    }
    throw new AssertionError("no agent " + host + " in " + ferry.clusterFile());
  }

  /** SIGKILL by pid, and wait until it is gone. */
  private static void kill(long pid) {
    ProcessHandle p = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("process " + pid + " is not running"));
    p.destroyForcibly();
    p.onExit().join();
  }

  private static void awaitFile(Path file, Duration timeout) throws InterruptedException {
    long until = System.nanoTime() + timeout.toNanos();
    while (!Files.exists(file)) {
      if (System.nanoTime() > until) throw new AssertionError(file + " did not appear within " + timeout);
      Thread.sleep(200);
    }
  }
}
