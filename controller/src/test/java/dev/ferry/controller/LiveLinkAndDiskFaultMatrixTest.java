package dev.ferry.controller;

import static dev.ferry.controller.LiveFaultScene.INCOMING;
import static dev.ferry.controller.LiveFaultScene.OUTGOING;
import static dev.ferry.controller.LiveFaultScene.STATS;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.VmState;
import dev.ferry.controller.FaultCell.Fault;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The link-cut and full-disk columns of the live fault matrix before the point of no return, as
 * the source agent reports them: its QEMU's stream (or a disk's mirror into the target's pool)
 * failed with the kernel's words. Each rolls back with those words: the target deleted, never
 * resumed (with {@code --copy-storage} that removes its half-written images), the source's guest
 * running on where it always ran.
 */
class LiveLinkAndDiskFaultMatrixTest {

  static final String LINK_CUT = "Unable to write to socket: Connection reset by peer";
  static final String ENOSPC = "mirror of disk0 to the target failed: No space left on device";

  @TempDir Path dir;
  LiveFaultScene s;

  @BeforeAll
  static void clearRecords() throws Exception {
    FaultMatrixDoc.clear(LiveLinkAndDiskFaultMatrixTest.class);
  }

  @AfterAll
  static void writeDoc() throws Exception {
    FaultMatrixDoc.writeIfComplete();
  }

  @AfterEach
  void stop() {
    if (s != null) s.close();
  }

  @Test
  void linkCut_whilePreparingTheTarget_theStreamCannotStartAndRollsBack() throws Exception {
    s = LiveFaultScene.shared(dir);
    CountDownLatch gate = new CountDownLatch(1);
    s.host2.pauseOn = INCOMING;
    s.host2.pauseGate = gate;
    String id = s.startAside();
    s.awaitCall(s.host2, INCOMING);
    s.awaitPhase(id, "preparing_target");

    s.host1.script.clear();
    s.host1.script.add(FakeAgent.failed(null, "Unable to connect to tcp:127.0.0.1:49152: No route to host"));
    gate.countDown();

    JsonNode done = s.awaitFinal(id);
    assertRolledBackWithTheSourcesWords(done, "No route to host");
    LiveFaultScene.record("preparing_target", Fault.LINK,
        "LiveLinkAndDiskFaultMatrixTest.linkCut_whilePreparingTheTarget_theStreamCannotStartAndRollsBack",
        "rolled back with QEMU's words: the stream never connected, the target deleted unresumed; the VM runs on the"
            + " source only");
  }

  @Test
  void fullTargetDisk_whileMigratingWithCopyStorage_rollsBackWithTheReason() throws Exception {
    s = LiveFaultScene.copyingStorage(dir);
    s.host1.holdAt = 0;
    String id = s.start("never", true);
    s.awaitCall(s.host1, OUTGOING);
    assertThat(s.host2.incoming.get("web").copyStorage()).as("the disk is copied into host2's pool").isNotEmpty();

    s.host1.failStream(ENOSPC);

    JsonNode done = s.awaitFinal(id);
    assertRolledBackWithTheSourcesWords(done, "No space left on device");
    assertThat(s.c.get("/api/vms/web").json().at("/disks/0/pool").asText()).as("the disk stays where it was")
        .isEqualTo("local");
    LiveFaultScene.record("migrating", Fault.DISK_FULL,
        "LiveLinkAndDiskFaultMatrixTest.fullTargetDisk_whileMigratingWithCopyStorage_rollsBackWithTheReason",
        "rolled back with the ENOSPC reason: the target (and its half-copied images) deleted; the VM runs on the"
            + " source only, on its own disk");
  }

  @Test
  void linkCut_inSwitchover_rollsBackAndTheSourceRunsOn() throws Exception {
    s = LiveFaultScene.shared(dir);
    s.host1.holdAt = 2;
    String id = s.start();
    s.awaitPhase(id, "switchover");

    s.host1.failStream(LINK_CUT);

    JsonNode done = s.awaitFinal(id);
    assertRolledBackWithTheSourcesWords(done, "Connection reset by peer");
    LiveFaultScene.record("switchover", Fault.LINK,
        "LiveLinkAndDiskFaultMatrixTest.linkCut_inSwitchover_rollsBackAndTheSourceRunsOn",
        "rolled back: the last pass broke before QEMU completed, the target deleted unresumed; the VM runs on the"
            + " source only");
  }

  @Test
  void fullTargetDisk_inSwitchoverWithCopyStorage_rollsBackWithTheReason() throws Exception {
    s = LiveFaultScene.copyingStorage(dir);
    s.host1.holdAt = 2;
    String id = s.start("never", true);
    s.awaitPhase(id, "switchover");

    s.host1.failStream(ENOSPC);

    JsonNode done = s.awaitFinal(id);
    assertRolledBackWithTheSourcesWords(done, "No space left on device");
    assertThat(s.c.get("/api/vms/web").json().at("/disks/0/pool").asText()).isEqualTo("local");
    LiveFaultScene.record("switchover", Fault.DISK_FULL,
        "LiveLinkAndDiskFaultMatrixTest.fullTargetDisk_inSwitchoverWithCopyStorage_rollsBackWithTheReason",
        "rolled back with the ENOSPC reason: the last mirrored writes did not fit, the target deleted unresumed; the VM"
            + " runs on the source only, on its own disk");
  }

  @Test
  void linkCut_whileCancelling_theRollbackEnds() throws Exception {
    s = LiveFaultScene.shared(dir);
    s.host1.holdAt = 0;
    String id = s.start();
    s.awaitCall(s.host1, OUTGOING);
    s.host1.failOn = STATS;
    s.awaitPhase(id, "cancelling");

    s.host1.failStream(LINK_CUT);
    s.host1.failOn = null;

    JsonNode done = s.awaitFinal(id);
    s.assertRolledBack(done, "failed");
    assertThat(s.host1.changes()).as("a broken stream needs no cancel").containsExactly(OUTGOING);
    LiveFaultScene.record("cancelling", Fault.LINK,
        "LiveLinkAndDiskFaultMatrixTest.linkCut_whileCancelling_theRollbackEnds",
        "rolled back: the stream the rollback was ending broke by itself, the target deleted unresumed; the VM runs on"
            + " the source only");
  }

  private void assertRolledBackWithTheSourcesWords(JsonNode done, String words) throws Exception {
    s.assertRolledBack(done, "failed");
    assertThat(done.get("reason").asText()).contains("on host 'host1'", words);
    assertThat(s.host1.changes()).as("a failed stream needs no cancel").isEqualTo(List.of(OUTGOING));
    assertThat(s.host1.vms.get("web").state()).isEqualTo(VmState.RUNNING);
  }
}
