package dev.ferry.controller;

import static dev.ferry.controller.FakeAgent.stats;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.QemuMigrationStatus;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.agent.MigrationStats;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A post-copy whose stream breaks, against two scripted agents: the controller reconnects it
 * (target recover, then source resume with the target's new URI) and never cancels it, and it
 * fails, saying what was lost, only when the target's QEMU is gone. The real link cut is
 * {@code LinkAndAgentFaultsIT.postcopy_linkCutWhileSplit_…} in the app module.
 */
class PostcopyRecoveryTest {

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
    // two pre-copy passes, then --postcopy always switches
    host1.script.addAll(List.of(
        stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, 600 * MIB, 400 * MIB, 300 * MIB, 1, 4000L),
        stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, 900 * MIB, 400 * MIB, 300 * MIB, 2, 4000L),
        stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, 1000 * MIB, 400 * MIB, 300 * MIB, 3, 4000L)));
    host1.calls.clear();
    host2.calls.clear();
  }

  @AfterEach
  void stop() {
    c.close();
  }

  private static List<MigrationStats> paused(int polls, long transferred) {
    List<MigrationStats> list = new ArrayList<>();
    for (int i = 0; i < polls; i++) list.add(stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.POSTCOPY_PAUSED, transferred, 200 * MIB, 0, 3, null));
    return list;
  }

  @Test
  void postcopyStreamBreaks_targetListensAgainAndTheSourceResumesThere_succeedsCountingTheRecovery() throws Exception {
    List<MigrationStats> postcopy = new ArrayList<>();
    postcopy.add(stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.POSTCOPY_ACTIVE, 1100 * MIB, 300 * MIB, 0, 3, null));
    postcopy.addAll(paused(12, 1150 * MIB));
    postcopy.add(stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.POSTCOPY_RECOVER, 1150 * MIB, 200 * MIB, 0, 3, null));
    postcopy.add(stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.POSTCOPY_ACTIVE, 1300 * MIB, 50 * MIB, 0, 3, null));
    postcopy.add(stats(OutgoingPhase.COMPLETED, QemuMigrationStatus.COMPLETED, 1400 * MIB, 0, 0, 3, 0L));
    host1.postcopyScript.addAll(postcopy);
    String id = startAlways();

    await().atMost(Duration.ofSeconds(20)).until(() -> host1.changes().contains("POST /agent/vms/web/outgoing/resume"));
    JsonNode split = c.get("/api/migrations/" + id).json();
    assertThat(split.get("status").asText()).as("split between two hosts: not done " + split).isEqualTo("running");
    assertThat(split.get("reason").asText()).contains("post-copy paused", "host 'host2'");
    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(30));

    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
    assertThat(done.get("postcopy_recoveries").asInt()).isEqualTo(1);
    assertThat(done.get("reason").asText()).contains("recovered");
    assertThat(host2.changes()).contains("POST /agent/vms/web/incoming/recover");
    assertThat(host1.resumedTo).as("the source reconnects where the target listens now").isEqualTo(FakeAgent.RECOVERY_URI);
    assertThat(host1.changes()).doesNotContain("POST /agent/vms/web/outgoing/cancel");
    assertThat(host2.changes()).doesNotContain("DELETE /agent/vms/web/incoming");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host2");
  }

  @Test
  void postcopyPausedAndTheTargetQemuGone_failsSayingTheNewestStateIsLost_neverRollsBack() throws Exception {
    List<MigrationStats> postcopy = new ArrayList<>();
    postcopy.add(stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.POSTCOPY_ACTIVE, 1100 * MIB, 300 * MIB, 0, 3, null));
    postcopy.addAll(paused(200, 1150 * MIB));
    host1.postcopyScript.addAll(postcopy);
    String id = startAlways();
    await().atMost(Duration.ofSeconds(20)).until(() -> c.get("/api/migrations/" + id).json().path("reason").asText("")
        .contains("post-copy paused"));

    host2.targetQemu = QemuMigrationStatus.GONE;
    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(30));

    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("failed");
    assertThat(done.get("reason").asText()).contains("gone during post-copy", "newest memory is lost", "host 'host1'");
    assertThat(host1.changes()).as("a post-copy is never cancelled: the source lacks the target's writes")
        .doesNotContain("POST /agent/vms/web/outgoing/cancel");
    assertThat(host2.changes()).doesNotContain("DELETE /agent/vms/web/incoming");
  }

  private String startAlways() throws Exception {
    var r = new LiveMigrationRequest("web", "host2", null, null, "always", null, null, null, null, null, null);
    TestCluster.Reply reply = c.post("/api/migrations/live", r);
    assertThat(reply.status()).as(reply.body()).isEqualTo(201);
    return reply.json().get("id").asText();
  }
}
