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
import dev.ferry.controller.FaultCell.Fault;
import dev.ferry.controller.FaultCell.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The full-disk column of the storage fault matrix where it meets the point of no return: the new
 * pool fills up between the mirror's READY and its pivot. Mirroring itself is in
 * {@code StorageMigrationTest}; after the pivot the move writes nothing more to the pool.
 */
class StorageDiskFullFaultMatrixTest {

  static final String DISK = "/agent/vms/web/mirrors/disk0";

  @TempDir Path dir;
  TestCluster c;

  @BeforeAll
  static void clearRecords() throws Exception {
    FaultMatrixDoc.clear(StorageDiskFullFaultMatrixTest.class);
  }

  @AfterAll
  static void writeDoc() throws Exception {
    FaultMatrixDoc.writeIfComplete();
  }

  @AfterEach
  void stop() {
    if (c != null) c.close();
  }

  /**
   * The mirror's job fails with ENOSPC just before its pivot: the agent refuses the pivot (409,
   * the move failed, the VM keeps its old disk). Before, the runner retried that refusal forever
   * (PIVOTING only rolls forward), so the move stayed running and stuck and the VM locked. Now, as
   * no disk pivoted, the point of no return was never crossed: it rolls back with the reason and
   * the VM keeps its old disk.
   */
  @Test
  void targetPoolFillsUp_atThePivot_rollsBackWithTheReasonAndTheVmKeepsItsDisk() throws Exception {
    c = new TestCluster(dir);
    FakeAgent host1 = c.hostWithLocalPool("host1");
    assertThat(c.post("/api/pools", new PoolCreateRequest("fast", "host1", "/pools/host1/fast", false)).status()).isEqualTo(201);
    assertThat(c.post("/api/vms", new VmCreateRequest("web", "host1", GIB, 1, "/pools/host1/local/vmlinuz", null,
        null, null, List.of(new DiskRequest(GIB, null, null)), true)).status()).isEqualTo(201);
    host1.heartbeat(c.controller.url());
    host1.calls.clear();
    host1.failOn = "POST " + DISK + "/pivot";
    TestCluster.Reply r = c.post("/api/migrations/storage", new StorageMigrationRequest("web", "fast", null, null, null, null, null));
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    String id = r.json().get("id").asText();
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(25))
        .until(() -> c.get("/api/migrations/" + id).json().get("phase").asText().equals("pivoting"));

    host1.failMove("web", "disk0", "error writing to the target: No space left on device");
    host1.failOn = null;

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(20));
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("failed");
    assertThat(done.get("phase").asText()).isEqualTo("rolled_back");
    assertThat(done.get("reason").asText()).contains("disk disk0", "No space left on device", "old disk");
    assertThat(c.phases(id)).containsExactly("pending", "mirroring", "ready", "pivoting", "cancelling", "rolled_back");
    assertThat(host1.changes()).endsWith("POST " + DISK + "/cancel");
    assertThat(c.get("/api/vms/web").json().at("/disks/0/pool").asText()).as("the vm keeps its old disk").isEqualTo("local");
    assertThat(done.get("stuck").isNull()).as(done.toString()).isTrue();
    assertThat(c.post("/api/vms/web/unlock", new VmUnlockRequest("matrix check")).status()).as("no lock left").isEqualTo(409);

    new FaultCell("storage", "pivoting", Fault.DISK_FULL,
        "StorageDiskFullFaultMatrixTest.targetPoolFillsUp_atThePivot_rollsBackWithTheReasonAndTheVmKeepsItsDisk",
        Level.SCRIPTED, "the pivot refused as the copy failed before it (ENOSPC): no disk pivoted, so rolled back with the"
            + " reason, the new image dropped; the VM on its old disk").record();
  }
}
