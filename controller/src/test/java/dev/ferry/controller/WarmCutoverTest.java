package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.VmState;
import dev.ferry.api.WarmMigrationRequest;
import dev.ferry.api.agent.WarmCopyStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * When a warm migration cuts over, and what its downtime counts from, against scripted agents and
 * a controller whose clock the test moves forward: {@code --cutover at:TIME} (the passes go on
 * until TIME, a TIME gone by cuts over after the first pass, a malformed TIME is refused at the
 * request), and {@code downtime_ms} of a cutover a restarted controller finished (warm, and cold
 * with {@code --shutdown}), which counted from the migration's start instead of the shutdown request.
 */
class WarmCutoverTest {

  /** The system clock plus an offset the test moves: the controller's whole notion of now. */
  static final class ShiftedClock implements InstantSource {
    private final AtomicReference<Duration> offset = new AtomicReference<>(Duration.ZERO);

    @Override
    public Instant instant() {
      return Instant.now().plus(offset.get());
    }

    void shift(Duration d) {
      offset.updateAndGet(o -> o.plus(d));
    }
  }

  static final Duration HOUR = Duration.ofHours(1);

  @TempDir static Path dir;
  static final ShiftedClock clock = new ShiftedClock();
  static CopyFaultScene s;

  @BeforeAll
  static void scene() throws Exception {
    s = new CopyFaultScene(new TestCluster(new ControllerConfig("127.0.0.1", 0, dir, null, null, null,
        Duration.ofSeconds(10), ControllerConfig.DEFAULT_MAX_MIGRATIONS_PER_HOST, clock, null, null, null)));
  }

  @AfterAll
  static void close() {
    if (s != null) s.close();
  }

  @BeforeEach
  void newVm() throws Exception {
    s.heartbeats(); // the clock may have moved past the hosts' last heartbeat
    s.newVm();
  }

  @Test
  void cutoverAtATimeToCome_thePassesGoOnUntilItComes_thenTheCutoverSaysSo() throws Exception {
    Instant at = clock.instant().plus(HOUR).truncatedTo(ChronoUnit.SECONDS);
    String id = start("at:" + at);

    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
        .until(() -> record(id).get("passes").asInt() >= 3);
    JsonNode waiting = record(id);
    assertThat(waiting.get("phase").asText()).as(waiting.toString()).isEqualTo("copying");
    assertThat(waiting.get("cutover_reason").isNull()).as(waiting.toString()).isTrue();
    assertThat(s.host1.calls).as("the guest not asked to power off before the time").noneMatch(x -> x.startsWith(
        "warm powerdown"));

    clock.shift(HOUR);
    s.heartbeats();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledForward(id, done);
    assertThat(done.get("cutover_reason").asText()).as(done.toString()).startsWith("the time " + at + " came after ");
    assertThat(Instant.parse(done.get("shutdown_requested_at").asText())).as("the power-off asked for at the time")
        .isAfterOrEqualTo(at);
    assertThat(done.get("passes").asInt()).as("the passes before the time, then the final one")
        .isGreaterThan(waiting.get("passes").asInt());
  }

  @Test
  void cutoverAtATimeGoneBy_cutsOverAfterTheFirstPass() throws Exception {
    Instant at = clock.instant().minus(Duration.ofDays(1)).truncatedTo(ChronoUnit.SECONDS);
    String id = start("at:" + at);

    JsonNode done = s.awaitFinal(id);
    s.assertRolledForward(id, done);
    assertThat(done.get("cutover_reason").asText()).as(done.toString()).isEqualTo("the time " + at
        + " came after 1 pass");
    assertThat(done.get("passes").asInt()).as("pass 0, then the final pass").isEqualTo(2);
    List<String> target = s.host2.changes();
    assertThat(target.indexOf("POST " + s.path() + "/stage")).as("staged before its start: " + target)
        .isNotNegative().isLessThan(target.indexOf("POST " + s.path() + "/start"));
    assertThat(s.host2.calls).as("the start resumed the staged QEMU").contains("start staged " + s.vm);
    List<String> calls = s.host2.calls;
    assertThat(calls).as("only the final pass lets go of the images").contains("warm pass 0", "warm pass 1 last");
    assertThat(calls.indexOf("attach staged " + s.vm)).as("images attached after the final pass, before the"
        + " hand-over and the start: " + calls).isGreaterThan(calls.indexOf("warm pass 1 last"))
        .isLessThan(calls.indexOf("start staged " + s.vm));
    assertThat(calls.indexOf("POST /agent/warm-copies/" + id + "/hashes")).as("the copy hashed after the final"
        + " pass: " + calls).isGreaterThan(calls.indexOf("warm pass 1 last"));
  }

  /**
   * The source has its hashes of the final pass ~15 ms after the power-off: they are asked for
   * while the target still copies it, not after (where they were part of the downtime's wait).
   */
  @Test
  void sourceHashesAskedForWhileTheTargetCopiesTheFinalPass() throws Exception {
    s.host2.holdWarmPassFrom = 1;
    String id = start("at:" + clock.instant().minus(Duration.ofDays(1)).truncatedTo(ChronoUnit.SECONDS));
    s.awaitPhase(id, "final_pass");
    awaitPassUnderWay(id, 1);
    String hashes = "POST " + s.path() + "/warm-source/hashes";

    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() -> s.host1.calls.contains(hashes));
    assertThat(record(id).get("phase").asText()).as("the final pass still held").isEqualTo("final_pass");
    assertThat(s.host2.calls).as("nothing of the hand-over yet").doesNotContain("POST /agent/warm-copies/" + id
        + "/attach", "POST /agent/warm-copies/" + id + "/hashes");

    s.release();
    JsonNode done = s.awaitFinal(id);
    s.assertRolledForward(id, done);
    assertThat(done.get("verified").asBoolean()).as(done.toString()).isTrue();
    assertThat(s.host1.calls.stream().filter(hashes::equals).count()).as("asked once: " + s.host1.calls).isEqualTo(1);
  }

  /**
   * The round trips while the guest is down: the source prepares the final pass in its answer to
   * the power-off (no pass request of its own) and answers the hashes it kept without quitting its
   * QEMU first, the target answers its own while it attaches; the source's QEMU, its guest off,
   * quits only after the guest runs on the target.
   */
  @Test
  void finalPassPreparedByThePowerOff_sourceHashesBeforeItsQemuQuits_whichWaitsForTheTargetsStart() throws Exception {
    s.holdCall(s.host2, "POST " + s.path() + "/start");
    String id = start("at:" + clock.instant().minus(Duration.ofDays(1)).truncatedTo(ChronoUnit.SECONDS));
    s.awaitHeld();
    String vmPath = "POST " + s.path() + "/warm-source";
    assertThat(s.host1.calls).as("the source answered its hashes and still holds its QEMU when the target starts")
        .contains(vmPath + "/hashes").doesNotContain(vmPath + "/finish");
    assertThat(s.host1.vms.get(s.vm).state()).as("the guest off in its QEMU").isEqualTo(VmState.PAUSED);
    s.release();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledForward(id, done);
    assertThat(done.get("passes").asInt()).as("pass 0, then the final pass").isEqualTo(2);
    List<String> source = s.host1.calls;
    assertThat(source.stream().filter(c -> c.equals(vmPath + "/passes")).count())
        .as("pass 0 asked for on its own, the final pass prepared by the power-off: " + source).isEqualTo(1);
    assertThat(source).as("the source's QEMU quits before its disks are deleted").containsSubsequence(
        vmPath + "/shutdown", vmPath + "/hashes", vmPath + "/finish", "DELETE " + s.path());
    assertThat(source.stream().filter(c -> c.equals(vmPath + "/hashes")).count()).as(source.toString()).isEqualTo(1);
    List<String> target = s.host2.calls;
    String hashes = "POST /agent/warm-copies/" + id + "/hashes";
    assertThat(target).as("the copy attached and hashed after the final pass").containsSubsequence(
        "warm pass 1 last", "POST /agent/warm-copies/" + id + "/attach").containsSubsequence("warm pass 1 last",
        hashes);
    assertThat(target.stream().filter(c -> c.equals(hashes)).count()).as(target.toString()).isEqualTo(1);
  }

  /**
   * A source that did not keep every hash (its hashing of a pass did not end) answers them only
   * once its QEMU quit: the cutover finishes it first, then hashes and verifies as before.
   */
  @Test
  void sourceWithoutItsKeptHashes_finishedBeforeItHashes_theCutoverStillVerifies() throws Exception {
    s.host1.keepsNoHashes.add(s.vm);
    String id = start("at:" + clock.instant().minus(Duration.ofDays(1)).truncatedTo(ChronoUnit.SECONDS));

    JsonNode done = s.awaitFinal(id);

    s.assertRolledForward(id, done);
    String vmPath = "POST " + s.path() + "/warm-source";
    assertThat(s.host1.calls).as("refused before the finish, answered after it").containsSubsequence(
        vmPath + "/hashes", vmPath + "/finish", vmPath + "/hashes");
  }

  @ParameterizedTest(name = "cutover {0}")
  @ValueSource(strings = {"at:tomorrow", "at:2026-12-06 04:00", "at:2026-13-01T00:00:00Z", "at:", "at:12:00",
      "soon"})
  void cutoverMalformed_refusedAtTheRequestNamingTheFieldTheValueAndWhatIsAllowed(String cutover) throws Exception {
    TestCluster.Reply r = s.c.post("/api/migrations/warm", request(cutover));

    assertThat(r.status()).as(r.body()).isEqualTo(400);
    assertThat(r.field()).isEqualTo("cutover");
    assertThat(r.json().get("value").asText()).isEqualTo(cutover);
    assertThat(r.json().get("detail").asText()).contains("cutover '" + cutover + "' is not valid")
        .contains("manual, auto or at:TIME with an ISO-8601 instant such as at:");
    assertThat(s.c.get("/api/migrations").json().toString()).as("no migration recorded").doesNotContain(
        "\"vm\":\"" + s.vm + "\"");
    assertThat(s.host1.changes()).isEmpty();
    assertThat(s.host2.changes()).isEmpty();
  }

  /**
   * The controller dies in the final pass an hour after the migration began; the one that finishes
   * the cutover counts the downtime from the persisted shutdown request, not from the start.
   */
  @Test
  void controllerRestartedInTheFinalPass_downtimeCountsFromTheShutdownRequest() throws Exception {
    s.host2.holdWarmPassFrom = 0;
    // auto, with a limit no prediction reaches: the cutover follows pass 0, which the clock says took an hour
    TestCluster.Reply r = s.c.post("/api/migrations/warm", new WarmMigrationRequest(s.vm, "host2", null, null, "100ms",
        "auto", 1_000_000_000_000L, "5s", null));
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    String id = r.json().get("id").asText();
    awaitPassUnderWay(id, 0);
    clock.shift(HOUR);
    s.heartbeats();
    s.host2.holdWarmPassFrom = 1;
    s.awaitPhase(id, "final_pass");
    awaitPassUnderWay(id, 1);

    s.c.restart();
    s.heartbeats();
    s.release();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledForward(id, done);
    Instant started = Instant.parse(done.get("started_at").asText());
    Instant asked = Instant.parse(done.get("shutdown_requested_at").asText());
    Instant ended = Instant.parse(done.get("ended_at").asText());
    assertThat(asked).as("asked after the hour the passes ran").isAfterOrEqualTo(started.plus(HOUR));
    assertThat(done.get("downtime_ms").asLong()).as(done.toString()).isPositive()
        .isLessThanOrEqualTo(Duration.between(asked, ended).toMillis());
  }

  /**
   * Cold with {@code --shutdown}: the guest is asked to power off an hour (by the clock) after the
   * migration began, the controller dies in the copy, and the one that starts the VM on the target
   * counts the downtime from the persisted request.
   */
  @Test
  void coldControllerRestartedInTheCopy_downtimeCountsFromTheShutdownRequest() throws Exception {
    // the status call before the power-off held while the clock moves (the copy held after it)
    var statusGate = new java.util.concurrent.CountDownLatch(1);
    s.host1.pausePrefix = "GET " + s.path();
    s.host1.pauseGate = statusGate;
    s.host2.holdColdCopy = true;
    String id = s.startCold();
    s.awaitCall(s.host1, "GET " + s.path());
    clock.shift(HOUR);
    s.heartbeats();
    s.host1.pauseGate = null;
    statusGate.countDown();
    s.awaitPhase(id, "copying");
    s.awaitCall(s.host2, "GET /agent/cold-copies/" + id);

    s.c.restart();
    s.heartbeats();
    s.release();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledForward(id, done);
    Instant started = Instant.parse(done.get("started_at").asText());
    Instant asked = Instant.parse(done.get("shutdown_requested_at").asText());
    Instant ended = Instant.parse(done.get("ended_at").asText());
    assertThat(asked).as("asked after the hour the status call took").isAfterOrEqualTo(started.plus(HOUR));
    assertThat(done.get("downtime_ms").asLong()).as(done.toString()).isPositive()
        .isLessThanOrEqualTo(Duration.between(asked, ended).toMillis());
  }

  /**
   * A VM moved cold with {@code --start} has measured its own define and start: its first warm
   * cutover predicts with that, not the 1.5 s default that made such a first prediction 3x the
   * actual downtime in the copy bench.
   */
  @Test
  void firstWarmAfterAColdStart_predictsTheStartTheColdOneMeasured() throws Exception {
    JsonNode cold = s.awaitFinal(s.startCold());
    assertThat(cold.get("status").asText()).as(cold.toString()).isEqualTo("succeeded");
    assertThat(cold.get("start_ms").isNumber()).as("cold --start measures its define and start: " + cold).isTrue();
    TestCluster.Reply r = s.c.post("/api/migrations/warm",
        new WarmMigrationRequest(s.vm, "host1", null, null, "100ms", "auto", 600_000L, "5s", null));
    assertThat(r.status()).as(r.body()).isEqualTo(201);

    JsonNode warm = s.awaitFinal(r.json().get("id").asText());

    assertThat(warm.get("status").asText()).as(warm.toString()).isEqualTo("succeeded");
    // cold's power-off + the final pass + the 200 ms verify default + cold's start: the start default alone is 1500
    assertThat(warm.get("predicted_downtime_ms").asLong()).as(warm.toString())
        .isLessThan(1500 + cold.get("shutdown_ms").asLong());
  }

  private static void awaitPassUnderWay(String id, int pass) {
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(25)).until(() -> {
      WarmCopyStatus st = s.host2.warmCopies.get(id);
      return st != null && st.pass() == pass && st.state().equals(WarmCopyStatus.COPYING);
    });
  }

  private static String start(String cutover) throws Exception {
    TestCluster.Reply r = s.c.post("/api/migrations/warm", request(cutover));
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.json().get("id").asText();
  }

  private static WarmMigrationRequest request(String cutover) {
    return new WarmMigrationRequest(s.vm, "host2", null, null, "100ms", cutover, null, "5s", null);
  }

  private static JsonNode record(String id) throws Exception {
    return s.c.get("/api/migrations/" + id).json();
  }
}
