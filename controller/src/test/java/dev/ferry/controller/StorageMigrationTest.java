package dev.ferry.controller;

import static dev.ferry.controller.TestCluster.GIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.DiskRequest;
import dev.ferry.api.PoolCreateRequest;
import dev.ferry.api.StorageMigrationRequest;
import dev.ferry.api.VmCreateRequest;
import dev.ferry.api.VmUnlockRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The storage migration state machine against a scripted agent: phases, rollback, refusals, recovery. */
class StorageMigrationTest {

  @TempDir Path dir;
  TestCluster c;
  FakeAgent host1;

  @BeforeEach
  void start() throws Exception {
    c = new TestCluster(dir);
    host1 = c.hostWithLocalPool("host1");
    assertThat(c.post("/api/pools", new PoolCreateRequest("fast", "host1", "/pools/host1/fast", false)).status()).isEqualTo(201);
    assertThat(c.post("/api/vms", new VmCreateRequest("web", "host1", GIB, 1, "/pools/host1/local/vmlinuz", null,
        null, null, List.of(new DiskRequest(GIB, null, null)), true)).status()).isEqualTo(201);
    host1.heartbeat(c.controller.url());
    host1.calls.clear();
  }

  @AfterEach
  void stop() {
    c.close();
  }

  @Test
  void storage_runningVm_goesThroughEveryPhaseInOrderAndMovesTheDisk() throws Exception {
    JsonNode started = start(new StorageMigrationRequest("web", "fast", null, "raw", null, null, null));
    assertThat(started.get("status").asText()).isEqualTo("running");
    assertThat(started.get("disks").get(0).asText()).isEqualTo("disk0");

    JsonNode done = c.awaitFinal(started.get("id").asText(), Duration.ofSeconds(20));

    assertThat(done.get("status").asText()).isEqualTo("succeeded");
    assertThat(done.get("verified").asBoolean()).isTrue();
    assertThat(done.get("disk_bytes_mirrored").asLong()).isEqualTo(4L << 20);
    assertThat(done.get("downtime_ms").asLong()).isEqualTo(4);
    assertThat(done.get("total_ms").asLong()).isPositive();
    assertThat(c.phases(started.get("id").asText())).containsExactly(
        "pending", "mirroring", "ready", "pivoting", "verifying", "releasing", "done");
    assertThat(host1.changes()).containsExactly("PUT /agent/vms/web/mirrors/disk0", "POST /agent/vms/web/mirrors/disk0/pivot",
        "POST /agent/vms/web/mirrors/disk0/verify", "POST /agent/vms/web/mirrors/disk0/release", "keep_source=false");
    JsonNode disk = c.get("/api/vms/web").json().get("disks").get(0);
    assertThat(disk.get("pool").asText()).isEqualTo("fast");
    assertThat(disk.get("format").asText()).isEqualTo("raw");
    assertThat(disk.get("path").asText()).startsWith("/pools/host1/fast/web-disk0-");
  }

  @Test
  void storage_adaptiveRate_isOnByDefault_andAFixedBandwidthOrNoAdaptiveRateTurnsItOff() throws Exception {
    for (var req : List.of(new StorageMigrationRequest("web", "fast", null, "raw", null, null, null),
        new StorageMigrationRequest("web", "fast", null, "raw", 12.5, null, null),
        new StorageMigrationRequest("web", "fast", null, "raw", null, null, null, false))) {
      String id = start(req).get("id").asText();
      assertThat(c.awaitFinal(id, Duration.ofSeconds(20)).get("status").asText()).isEqualTo("succeeded");
      // back for the next request
      c.awaitFinal(start(new StorageMigrationRequest("web", "local", null, "raw", null, null, null, false)).get("id")
          .asText(), Duration.ofSeconds(20));
    }
    var sent = host1.mirrorRequests;
    assertThat(sent).extracting(r -> r.pool() + " " + r.bandwidthBytesPerS() + " " + r.adaptiveRate()).containsExactly(
        "fast 0 true", "local 0 false", "fast 13107200 false", "local 0 false", "fast 0 false", "local 0 false");
  }

  /**
   * Issue 9 B4: two disks; disk0 pivots, then disk1's copy fails (ENOSPC) before its pivot. The
   * guest already writes to disk0's new image, so there is no way back for it: the move rolls
   * forward with disk0 only, disk1 stays on its old image (its mirror cancelled, new image
   * dropped), and the record says so and fails. Before, the pivot was retried for ever.
   */
  @Test
  void storage_secondDiskFailsAfterTheFirstPivoted_movesTheFirstKeepsTheSecondAndSaysSo() throws Exception {
    assertThat(c.post("/api/vms", new VmCreateRequest("db", "host1", GIB, 1, "/pools/host1/local/vmlinuz", null,
        null, null, List.of(new DiskRequest(GIB, null, null), new DiskRequest(GIB, null, null)), true)).status())
        .isEqualTo(201);
    host1.heartbeat(c.controller.url());
    host1.failOn = "POST /agent/vms/db/mirrors/disk1/pivot";
    String id = start(new StorageMigrationRequest("db", "fast", null, null, null, null, null)).get("id").asText();
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(25))
        .until(() -> host1.calls.contains("POST /agent/vms/db/mirrors/disk1/pivot"));
    host1.failMove("db", "disk1", "error writing to the target: No space left on device");
    host1.failOn = null;

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(20));
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("failed");
    assertThat(done.get("phase").asText()).isEqualTo("done");
    assertThat(done.get("disks_kept")).extracting(JsonNode::asText).containsExactly("disk1");
    assertThat(done.get("reason").asText()).contains("disk disk1", "No space left on device", "[disk0] moved",
        "[disk1] stay on their old images");
    JsonNode vm = c.get("/api/vms/db").json();
    assertThat(vm.at("/disks/0/pool").asText()).isEqualTo("fast");
    assertThat(vm.at("/disks/1/pool").asText()).as("kept on its old image").isEqualTo("local");
    assertThat(host1.changes()).contains("POST /agent/vms/db/mirrors/disk1/cancel", "POST /agent/vms/db/mirrors/disk0/release")
        .doesNotContain("POST /agent/vms/db/mirrors/disk1/release", "POST /agent/vms/db/mirrors/disk1/verify");
    assertThat(c.post("/api/vms/db/unlock", new VmUnlockRequest("check")).status()).as("no lock left").isEqualTo(409);
  }

  /**
   * The agent remembers the first move of disk0 as released; the second migration once took that
   * for its own mirror and waited for it to become ready forever.
   */
  @Test
  void storage_secondMoveOfTheSameDisk_startsItsOwnMirror() throws Exception {
    assertThat(c.awaitFinal(start(new StorageMigrationRequest("web", "fast", null, "raw", null, null, null))
        .get("id").asText(), Duration.ofSeconds(20)).get("status").asText()).isEqualTo("succeeded");

    JsonNode back = c.awaitFinal(start(new StorageMigrationRequest("web", "local", null, "qcow2", null, null, true))
        .get("id").asText(), Duration.ofSeconds(20));

    assertThat(back.get("status").asText()).isEqualTo("succeeded");
    assertThat(c.get("/api/vms/web").json().at("/disks/0/pool").asText()).isEqualTo("local");
    assertThat(host1.changes().stream().filter(x -> x.startsWith("PUT")).toList()).hasSize(2);
  }

  @Test
  void storage_cancelledBeforeThePivot_rollsBackAndLeavesTheDisk() throws Exception {
    host1.holdReady = true;
    String id = start(new StorageMigrationRequest("web", "fast", null, null, null, null, null)).get("id").asText();
    await().atMost(Duration.ofSeconds(10)).until(() -> c.get("/api/migrations/" + id).json().get("transferred_bytes").asLong() > 0);

    assertThat(c.post("/api/migrations/" + id + "/cancel", null).status()).isEqualTo(200);
    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(20));

    assertThat(done.get("status").asText()).isEqualTo("cancelled");
    assertThat(done.get("phase").asText()).isEqualTo("rolled_back");
    assertThat(host1.changes()).containsExactly("PUT /agent/vms/web/mirrors/disk0", "POST /agent/vms/web/mirrors/disk0/cancel");
    assertThat(c.get("/api/vms/web").json().at("/disks/0/pool").asText()).isEqualTo("local");
    assertThat(c.post("/api/migrations/" + id + "/cancel", null).status()).isEqualTo(409);
  }

  @Test
  void storage_targetFillsUp_failsWithTheReasonAndTheVmKeepsItsDisk() throws Exception {
    host1.failMirror = "No space left on device (pool fast)";
    String id = start(new StorageMigrationRequest("web", "fast", null, null, null, null, null)).get("id").asText();

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(20));

    assertThat(done.get("status").asText()).isEqualTo("failed");
    assertThat(done.get("reason").asText()).contains("No space left on device", "disk0");
    assertThat(host1.changes()).contains("POST /agent/vms/web/mirrors/disk0/cancel")
        .doesNotContain("POST /agent/vms/web/mirrors/disk0/pivot");
    assertThat(c.get("/api/vms/web").json().at("/disks/0/pool").asText()).isEqualTo("local");
  }

  @Test
  void cancel_afterThePointOfNoReturn_is409WithTheReasonAndTheMigrationFinishes() throws Exception {
    host1.verifyMillis = 1500;
    String id = start(new StorageMigrationRequest("web", "fast", null, null, null, null, null)).get("id").asText();
    await().atMost(Duration.ofSeconds(10)).until(() -> c.get("/api/migrations/" + id).json().get("phase").asText().equals("verifying"));

    TestCluster.Reply r = c.post("/api/migrations/" + id + "/cancel", null);

    assertThat(r.status()).isEqualTo(409);
    assertThat(r.json().get("detail").asText()).contains("point of no return");
    assertThat(c.awaitFinal(id, Duration.ofSeconds(20)).get("status").asText()).isEqualTo("succeeded");
  }

  @Test
  void storage_verificationFinds_aDifference_failsAndKeepsTheOldImage() throws Exception {
    host1.verifyMismatch = 65536;
    String id = start(new StorageMigrationRequest("web", "fast", null, null, null, null, null)).get("id").asText();

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(20));

    assertThat(done.get("status").asText()).isEqualTo("failed");
    assertThat(done.get("verified").asBoolean()).isFalse();
    assertThat(done.get("reason").asText()).contains("65536 bytes differ", "old image is kept");
    assertThat(host1.changes()).doesNotContain("POST /agent/vms/web/mirrors/disk0/release");
    assertThat(c.get("/api/vms/web").json().at("/disks/0/pool").asText()).as("the vm runs on the new image").isEqualTo("fast");
  }

  @Test
  void controllerRestart_midMirror_resumesWatchingAndFinishes() throws Exception {
    host1.holdReady = true;
    String id = start(new StorageMigrationRequest("web", "fast", null, null, null, null, null)).get("id").asText();
    await().atMost(Duration.ofSeconds(10)).until(() -> c.get("/api/migrations/" + id).json().get("transferred_bytes").asLong() > 0);

    c.restart();
    host1.heartbeat(c.controller.url());
    host1.holdReady = false;

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(20));
    assertThat(done.get("status").asText()).isEqualTo("succeeded");
    assertThat(host1.changes().stream().filter(x -> x.startsWith("PUT")).toList()).as("the mirror is not started twice")
        .containsExactly("PUT /agent/vms/web/mirrors/disk0");
  }

  @Test
  void storage_badRequests_areRefusedNamingTheFieldAndChangeNothing() throws Exception {
    assertRefused(new StorageMigrationRequest("web", "nope", null, null, null, null, null), 404, "to_pool");
    assertRefused(new StorageMigrationRequest("ghost", "fast", null, null, null, null, null), 404, "vm");
    assertRefused(new StorageMigrationRequest("web", "fast", null, "vmdk", null, null, null), 400, "format");
    assertRefused(new StorageMigrationRequest("web", "fast", null, null, null, "some", null), 400, "verify");
    assertRefused(new StorageMigrationRequest("web", "fast", null, null, -1.0, null, null), 400, "bandwidth_mib_s");
    assertRefused(new StorageMigrationRequest("web", "fast", null, null, 50.0, null, null, true), 400, "adaptive_rate");
    assertRefused(new StorageMigrationRequest("web", "fast", List.of("disk7"), null, null, null, null), 404, "disks[0]");
    assertRefused(new StorageMigrationRequest("web", "local", null, null, null, null, null), 409, "to_pool");
    assertThat(c.get("/api/migrations").json()).isEmpty();
    assertThat(host1.changes()).isEmpty();
  }

  @Test
  void storage_secondMigrationOfTheSameVm_is409() throws Exception {
    host1.holdReady = true;
    start(new StorageMigrationRequest("web", "fast", null, null, null, null, null));

    assertRefused(new StorageMigrationRequest("web", "fast", null, null, null, null, null), 409, "vm");
    assertThat(c.post("/api/vms/web/stop", null).status()).as("the vm belongs to its migration").isEqualTo(409);
  }

  private void assertRefused(StorageMigrationRequest r, int status, String field) throws Exception {
    TestCluster.Reply reply = c.post("/api/migrations/storage", r);
    assertThat(reply.status()).as(reply.body()).isEqualTo(status);
    assertThat(reply.field()).as(reply.body()).isEqualTo(field);
  }

  private JsonNode start(StorageMigrationRequest r) throws Exception {
    TestCluster.Reply reply = c.post("/api/migrations/storage", r);
    assertThat(reply.status()).as(reply.body()).isEqualTo(201);
    return reply.json();
  }


}
