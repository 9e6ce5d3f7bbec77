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
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The controller-death column of the fault matrix for every storage phase a fault can land in:
 * the scripted agent holds the move in the phase, the controller is closed and a new one started
 * on the same store, and the end state is checked: before the pivot rolled back to the old disk
 * and never pivoted; from the pivot on rolled forward to the new pool and no mirror cancelled
 * (the new image is never deleted on a guess); no lock left. See {@link FaultMatrixTest}.
 */
class StorageFaultMatrixTest {

  static final String DISK = "/agent/vms/web/mirrors/disk0";

  @TempDir Path dir;
  TestCluster c;
  FakeAgent host1;

  /** Where each scenario holds the move, and which side of the pivot that is. */
  enum StorageCell {
    MIRRORING(false), PIVOTING(true), VERIFYING(true), RELEASING(true), CANCELLING(false);

    final boolean past;

    StorageCell(boolean past) {
      this.past = past;
    }

    String phase() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  @BeforeAll
  static void clearRecords() throws Exception {
    FaultMatrixDoc.clear(StorageFaultMatrixTest.class);
  }

  @AfterAll
  static void writeDoc() throws Exception {
    FaultMatrixDoc.writeIfComplete();
  }

  @AfterEach
  void stop() {
    if (c != null) c.close();
  }

  @ParameterizedTest(name = "controller death in storage {0}")
  @EnumSource(StorageCell.class)
  void controllerDeath_inEveryStoragePhase_recoversWithoutLosingAnImage(StorageCell cell) throws Exception {
    scene();
    switch (cell) {
      case MIRRORING -> host1.holdReady = true;
      case PIVOTING -> host1.failOn = "POST " + DISK + "/pivot";
      case VERIFYING -> host1.verifyMillis = 1500;
      case RELEASING -> host1.failOn = "POST " + DISK + "/release";
      case CANCELLING -> {
        host1.failMirror = "injected copy failure";
        host1.failOn = "POST " + DISK + "/cancel";
      }
    }
    TestCluster.Reply r = c.post("/api/migrations/storage", new StorageMigrationRequest("web", "fast", null, null, null, null, null));
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    String id = r.json().get("id").asText();
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(25))
        .until(() -> c.get("/api/migrations/" + id).json().get("phase").asText().equals(cell.phase()));

    c.restart();
    host1.heartbeat(c.controller.url());
    host1.holdReady = false;
    host1.failOn = null;
    host1.verifyMillis = 0;

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(40));
    assertThat(c.phases(id)).contains(cell.phase());
    String pool = c.get("/api/vms/web").json().at("/disks/0/pool").asText();
    if (cell.past) {
      assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
      assertThat(c.phases(id)).doesNotContain("cancelling", "rolled_back");
      assertThat(host1.changes()).as("the new image is never cancelled").doesNotContain("POST " + DISK + "/cancel");
      assertThat(pool).isEqualTo("fast");
    } else {
      assertThat(done.get("status").asText()).as(done.toString()).isIn("failed", "succeeded");
      if (cell == StorageCell.CANCELLING) {
        assertThat(done.get("phase").asText()).isEqualTo("rolled_back");
        assertThat(host1.changes()).as("never pivoted").doesNotContain("POST " + DISK + "/pivot");
        assertThat(pool).isEqualTo("local");
      } else {
        assertThat(done.get("status").asText()).as("the watched mirror goes on").isEqualTo("succeeded");
        assertThat(host1.changes().stream().filter(x -> x.startsWith("PUT")).toList()).as("the mirror is not started twice")
            .containsExactly("PUT " + DISK);
        assertThat(pool).isEqualTo("fast");
      }
    }
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host1");
    assertThat(host1.vms).containsKey("web");
    assertThat(done.get("stuck").isNull()).as(done.toString()).isTrue();
    assertThat(c.post("/api/vms/web/unlock", new VmUnlockRequest("matrix check")).status()).as("no lock left").isEqualTo(409);

    new FaultCell("storage", cell.phase(), Fault.CONTROLLER,
        "StorageFaultMatrixTest.controllerDeath_inEveryStoragePhase[" + cell.phase() + "]", Level.SCRIPTED,
        switch (cell) {
          case MIRRORING -> "the new controller watches the same mirror (not started twice) and finishes";
          case CANCELLING -> "the rollback is finished after the restart: the VM on its old disk, never pivoted";
          case PIVOTING, VERIFYING, RELEASING -> "rolled forward after the restart: the VM on the new pool, no mirror cancelled";
        }).record();
  }

  private void scene() throws Exception {
    c = new TestCluster(dir);
    host1 = c.hostWithLocalPool("host1");
    assertThat(c.post("/api/pools", new PoolCreateRequest("fast", "host1", "/pools/host1/fast", false)).status()).isEqualTo(201);
    assertThat(c.post("/api/vms", new VmCreateRequest("web", "host1", GIB, 1, "/pools/host1/local/vmlinuz", null,
        null, null, List.of(new DiskRequest(GIB, null, null)), true)).status()).isEqualTo(201);
    host1.heartbeat(c.controller.url());
    host1.calls.clear();
  }
}
