package dev.ferry.agent.migration;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.AgentException;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.CopyStorageDisk;
import dev.ferry.api.agent.IncomingPhase;
import dev.ferry.api.agent.IncomingRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RequestsTest {

  private static final AgentVmDefinition DEF = new AgentVmDefinition("a", 1, 64L << 20, "pc-q35-7.2", null, null, null,
      null, List.of(new AgentDisk("disk0", "/p/a-disk0.qcow2", "qcow2"), new AgentDisk(null, "/p/a-x.qcow2", "qcow2")));

  private static IncomingRequest copying(String... disks) {
    return new IncomingRequest("m1", DEF, 64L << 20, Map.of(), Map.of(),
        java.util.Arrays.stream(disks).map(d -> new CopyStorageDisk(d, "pool", null, 1L << 20)).toList());
  }

  @Test
  void incoming_copiesDisksOfTheDefinition_isAccepted() {
    assertDoesNotThrow(() -> Requests.validate(copying("disk0", "disk1")));
  }

  /**
   * Regression: only null was refused, and the id goes into the image's file name on the target,
   * so {@code ../x} created an image outside the pool and an unknown id one nothing used.
   */
  @Test
  void incoming_copyDiskNotInDefinitionOrPathLike_isRefusedNamingTheField() {
    for (String bad : List.of("../x", "disk9", "Disk0", "")) {
      var e = assertThrows(AgentException.class, () -> Requests.validate(copying(bad)), bad);
      assertTrue(e.getMessage().contains("copy_storage[0].disk") && e.getMessage().contains("disk0, disk1"), e.getMessage());
    }
  }

  @Test
  void incoming_sameDiskCopiedTwice_isRefused() {
    var e = assertThrows(AgentException.class, () -> Requests.validate(copying("disk0", "disk0")));
    assertTrue(e.getMessage().contains("copy_storage[1].disk"), e.getMessage());
  }

  @Test
  void incomingRecord_ipv6Host_bracketsTheMigrationUri() {
    var r = new IncomingRecord(IncomingRecord.ROLE, "m1", IncomingPhase.LISTENING, "fd00::5", 4444, null, null, null, null,
        null, 0, null, 4445);
    assertTrue(r.migrationUri().equals("tcp:[fd00::5]:4444"), r.migrationUri());
    assertTrue(r.recoveryUri().equals("tcp:[fd00::5]:4445"), r.recoveryUri());
    Requests.migrationUri(r.migrationUri(), "test");
    var v4 = new IncomingRecord(IncomingRecord.ROLE, "m1", IncomingPhase.LISTENING, "10.0.0.5", 4444, null, null, null,
        null, null, 0, null, null);
    assertTrue(v4.migrationUri().equals("tcp:10.0.0.5:4444"), v4.migrationUri());
  }

  /** Only TCP: exec: runs a command as QEMU, unix: and fd: reach the source host's own sockets. */
  @Test
  void migrationUri_otherThanTcp_isRefusedNamingFieldValueAndTcp() {
    for (String bad : List.of("unix:/run/ferry/x.sock", "exec:cat /etc/shadow", "fd:3", "rdma:10.0.0.1:4444",
        "tcp:10.0.0.1:4444,exec:x", "tcp:10.0.0.1", "")) {
      var e = assertThrows(AgentException.class, () -> Requests.migrationUri(bad, "as the target answered"), bad);
      assertTrue(e.kind() == AgentException.Kind.INVALID && "migration_uri".equals(e.field()) && bad.equals(e.value())
          && e.allowed().startsWith("tcp:HOST:PORT only"), e.getMessage());
    }
    assertDoesNotThrow(() -> Requests.migrationUri("tcp:10.0.0.5:4444", "test"));
    assertDoesNotThrow(() -> Requests.migrationUri("tcp:host2.example:4444", "test"));
  }
}
