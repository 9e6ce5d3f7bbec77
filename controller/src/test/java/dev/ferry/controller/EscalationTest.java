package dev.ferry.controller;

import static dev.ferry.controller.FakeAgent.stats;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.QemuMigrationStatus;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.agent.MigrationStats;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The convergence ladder against a guest that never lets pre-copy finish: within what the user
 * allowed, each stall takes the next rung (steeper auto-converge throttle, then post-copy), in
 * that order, and the record lists every rung taken.
 */
class EscalationTest {

  private static final long MIB = 1L << 20;

  @TempDir Path dir;
  TestCluster c;
  FakeAgent host1;
  FakeAgent host2;

  @BeforeEach
  void start() throws Exception {
    c = new TestCluster(dir);
    List<FakeAgent> hosts = c.twoHostsWithWebOnShared();
    host1 = hosts.get(0);
    host2 = hosts.get(1);
    List<MigrationStats> stuck = new ArrayList<>();
    for (int pass = 1; pass < 60; pass++) {
      stuck.add(stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, 600 * MIB + pass * 100 * MIB, 400 * MIB, 300 * MIB, pass, 4000L));
    }
    host1.script.addAll(stuck);
    host1.postcopyScript.addAll(List.of(
        stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.POSTCOPY_ACTIVE, 7000 * MIB, 200 * MIB, 300 * MIB, 60, null),
        stats(OutgoingPhase.COMPLETED, QemuMigrationStatus.COMPLETED, 7200 * MIB, 0, 0, 60, 0L)));
    host1.calls.clear();
  }

  @AfterEach
  void stop() {
    c.close();
  }

  @Test
  void autoConvergeAndPostcopyAuto_stuck_steepensTheThrottleTwiceThenSwitchesToPostcopy() throws Exception {
    String id = start(new LiveMigrationRequest("web", "host2", null, null, "auto", true, null, null, null, null, null));

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(60));

    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
    // first the downtime limit, from its 50 ms start to the allowance (what the plateau needs is above it), then the throttle
    assertThat(host1.tuned).containsExactly(Map.of("downtime-limit", 300), Map.of("cpu-throttle-increment", 25),
        Map.of("cpu-throttle-increment", 40));
    List<String> changes = host1.changes();
    assertThat(changes.lastIndexOf("POST /agent/vms/web/outgoing/parameters"))
        .as("post-copy only after the last throttle rung: " + changes)
        .isLessThan(changes.indexOf("POST /agent/vms/web/outgoing/postcopy"));
    assertThat(host1.changes()).contains("POST /agent/vms/web/outgoing/postcopy");
    List<String> rungs = new ArrayList<>();
    done.get("escalations").forEach(e -> rungs.add(e.asText()));
    assertThat(rungs).hasSize(7);
    assertThat(rungs.get(0)).contains("bandwidth uncapped");
    assertThat(rungs.get(1)).contains("downtime limit 50 ms at the start", "300 ms allowed");
    assertThat(rungs.get(2)).contains("auto-converge on from the start", "10 %");
    assertThat(rungs.get(3)).contains("downtime limit raised to 300 ms");
    assertThat(rungs.get(4)).contains("throttle step 25 %");
    assertThat(rungs.get(5)).contains("throttle step 40 %");
    assertThat(rungs.get(6)).contains("post-copy after");
  }

  @Test
  void defaults_aMeasurementSaysItStallsAndTheTargetRunsPostcopy_switchesToPostcopyAsTheLastRungAndFinishes()
      throws Exception {
    assertThat(dryRun(true, 400L)).isEqualTo("post-copy");

    String id = start(new LiveMigrationRequest("web", "host2", null, null, null, null, null, null, null, null, null));
    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(60));

    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
    assertThat(host2.incoming.get("web").capabilities()).as("armed on the target").containsEntry("postcopy-ram", true);
    assertThat(host1.outgoing.get("web").capabilities()).as("and on the source").containsEntry("postcopy-ram", true);
    List<String> changes = host1.changes();
    assertThat(changes.indexOf("POST /agent/vms/web/outgoing/parameters"))
        .as("the downtime limit is raised to the allowance first: " + changes)
        .isLessThan(changes.indexOf("POST /agent/vms/web/outgoing/postcopy"));
    List<String> rungs = new ArrayList<>();
    done.get("escalations").forEach(e -> rungs.add(e.asText()));
    assertThat(rungs.getLast()).contains("post-copy after", "--postcopy auto");
    assertThat(done.get("postcopy").asBoolean()).isTrue();
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host2");
  }

  @Test
  void defaults_targetDidNotSayItRunsPostcopy_stuck_cancelsAndTheVmStaysOnTheSource() throws Exception {
    assertThat(dryRun(false, 400L)).isEqualTo("cancelled");

    String id = start(new LiveMigrationRequest("web", "host2", null, null, null, null, null, null, null, null, null));
    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(60));

    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("failed");
    assertThat(host1.outgoing.get("web").capabilities()).doesNotContainKey("postcopy-ram");
    assertThat(host1.changes()).doesNotContain("POST /agent/vms/web/outgoing/postcopy");
    assertThat(done.get("reason").asText()).contains("does not converge", "--postcopy auto");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host1");
  }

  @Test
  void defaults_aMeasurementSaysItConverges_postcopyIsNotArmed() throws Exception {
    assertThat(dryRun(true, 16L)).isEqualTo("pre-copy");

    String id = start(new LiveMigrationRequest("web", "host2", null, null, null, null, null, null, null, null, null));
    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(60));

    assertThat(host1.outgoing.get("web").capabilities()).as("armed post-copy would lengthen the pause for nothing")
        .doesNotContainKey("postcopy-ram");
    assertThat(done.get("status").asText()).as("the scripted guest stalls anyway: cancelled as before").isEqualTo("failed");
  }

  @Test
  void autoConvergeWithoutPostcopy_stuckAfterEveryRung_cancelsNamingTheSteepestThrottle() throws Exception {
    String id = start(new LiveMigrationRequest("web", "host2", null, 64.0, "never", true, null, null, null, null, null));

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(60));

    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("failed");
    assertThat(host1.tuned).as("the downtime limit to the allowance, then two throttle rungs").hasSize(3);
    assertThat(host1.changes()).doesNotContain("POST /agent/vms/web/outgoing/postcopy");
    assertThat(done.get("reason").asText()).contains("does not converge", "auto-converge throttled up to steps of 40 %");
    assertThat(done.get("escalations").get(0).asText()).contains("capped at 64.0 MiB/s");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host1");
  }

  /**
   * host2 reports whether it can run post-copy, host1's guest dirties {@code dirtyMibS}, and a dry
   * run with default flags measures it (what the migration after it reuses); its outcome.
   */
  private String dryRun(boolean targetReady, long dirtyMibS) throws Exception {
    host2.postcopyReady = targetReady;
    assertThat(host2.heartbeat(c.controller.url())).isEqualTo(200);
    host1.dirtyRateMibS = dirtyMibS;
    JsonNode predicted = c.post("/api/migrations/live/dry-run", new LiveMigrationRequest("web", "host2", null, null, null,
        null, null, null, null, null, null)).json();
    return predicted.get("outcome").asText();
  }

  private String start(LiveMigrationRequest r) throws Exception {
    TestCluster.Reply reply = c.post("/api/migrations/live", r);
    assertThat(reply.status()).as(reply.body()).isEqualTo(201);
    return reply.json().get("id").asText();
  }
}
