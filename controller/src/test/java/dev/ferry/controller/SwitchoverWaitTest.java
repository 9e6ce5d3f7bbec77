package dev.ferry.controller;

import static dev.ferry.controller.FakeAgent.stats;
import static dev.ferry.controller.TestCluster.GIB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.QemuMigrationStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14 asks that the switchover be driven by QMP events, not polls. The agent turns QEMU's
 * events into phase changes; the controller learns of them with one request the agent holds until
 * the phase moves (or 250 ms), where it used to ask every 50 ms. Scripted agents over HTTP: the
 * source holds each answer while the phase stays, as a real agent does.
 */
class SwitchoverWaitTest {

  private static final long MIB = 1L << 20;

  @TempDir Path dir;
  TestCluster c;
  FakeAgent host1;

  @BeforeEach
  void start() throws Exception {
    c = new TestCluster(dir);
    host1 = c.twoHostsWithWebOnShared().get(0);
    host1.waitsForPhase = true;
    for (int pass = 1; pass <= 6; pass++) {
      host1.script.add(stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, pass * 100 * MIB, GIB - pass * 100 * MIB,
          20 * MIB, pass, 900L));
    }
    host1.script.add(stats(OutgoingPhase.COMPLETED, QemuMigrationStatus.COMPLETED, GIB, 0, 0, 7, 0L));
  }

  @AfterEach
  void stop() {
    c.close();
  }

  @Test
  void copyingRam_theSourceIsAskedToAnswerOnAPhaseChange_neverPolledInBetween() throws Exception {
    var r = c.post("/api/migrations/live", new LiveMigrationRequest("web", "host2", null, null, "never", null, null, null,
        null, null, null));
    assertThat(r.status()).as(r.body()).isEqualTo(201);

    JsonNode done = c.awaitFinal(r.json().get("id").asText(), Duration.ofSeconds(30));

    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
    // every stats request while RAM was copied asked to be held until the phase moves
    assertThat(host1.statsWaits).isNotEmpty().allMatch(w -> w.equals("unless=migrating wait_ms=250"));
    List<String> asked = host1.calls.stream().filter(call -> call.equals("GET /agent/vms/web/outgoing")).toList();
    // 6 held answers and the completed one, plus the few plain asks before the copy and after it;
    // polling every 50 ms meanwhile would have taken about 5 asks per held one
    assertThat(asked.size()).as("stats requests").isLessThanOrEqualTo(host1.statsWaits.size() + 6);
  }
}
