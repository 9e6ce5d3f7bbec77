package dev.ferry.agent.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.agent.qemu.QemuInstallation;
import dev.ferry.agent.qemu.QemuVersion;
import dev.ferry.agent.vm.QemuHost;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.OutgoingReclaim;
import dev.ferry.api.agent.OutgoingRequest;
import dev.ferry.api.agent.OutgoingUnlock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression: {@code ferry vm unlock} ended a stuck migration on the controller only. A source
 * record left {@code completed} (QEMU finished the copy, the complete never came) kept the vm busy
 * on the source agent and refused every later migration as "already migrating", for good. The
 * agent here is the real one without QEMU: the record is on disk as an agent restarted after the
 * completion finds it.
 */
class OutgoingForgetTest {

  @TempDir Path tmp;
  Vms vms;
  Migrations migrations;

  @BeforeEach
  void agentWithACompletedRecord() throws Exception {
    var qemu = new QemuInstallation(Path.of("/bin/false"), Path.of("/usr/bin/qemu-img"), new QemuVersion(7, 2, 0),
        List.of("q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)",
            "pc-q35-7.2           Standard PC (Q35 + ICH9, 2009)"));
    var host = new QemuHost(qemu, Accelerator.TCG);
    Pools pools = Pools.load(tmp, "h1");
    pools.define("a", tmp.resolve("a").toString(), false);
    Files.writeString(tmp.resolve("a/vmlinuz"), "kernel");
    vms = Vms.load(tmp, "h1", pools, host);
    vms.define("web", new AgentVmDefinition("web", 1, 64L << 20, "q35", null, tmp.resolve("a/vmlinuz").toString(), null,
        "", List.of()));
    new MigrationStore(tmp).write("web", new OutgoingRecord(OutgoingRecord.ROLE, "m1", OutgoingPhase.COMPLETED,
        "tcp:127.0.0.1:49152", Map.of(), Map.of(), null, List.of(), true, Instant.now(), Instant.now(), Instant.now(), null,
        Instant.now(), null, null, null));
    migrations = Migrations.start(tmp, vms, pools, host, "127.0.0.1");
  }

  @Test
  void unlockOutgoing_completedRecord_isForgottenAndTheVmTakesActionsAndMigrationsAgain() {
    var next = new OutgoingRequest("m2", "tcp:127.0.0.1:49153", Map.of(), Map.of(), null);
    assertThatThrownBy(() -> migrations.outgoing("web", next)).as("before: blocked by the stale record")
        .hasMessageContaining("already migrating (migration m1, completed)");
    assertThatThrownBy(() -> vms.stop("web", Duration.ofSeconds(1))).hasMessageContaining("migrating to another host");

    MigrationStats last = migrations.unlockOutgoing("web", new OutgoingUnlock("m1", "target host lost, checked"));

    assertThat(last.migrationId()).isEqualTo("m1");
    assertThat(last.phase()).isEqualTo(OutgoingPhase.COMPLETED);
    assertThat(Files.exists(new MigrationStore(tmp).file("web"))).as("the record is gone from disk").isFalse();
    assertThatThrownBy(() -> migrations.outgoingStats("web")).isInstanceOf(AgentException.class)
        .extracting(e -> ((AgentException) e).kind()).isEqualTo(AgentException.Kind.NOT_FOUND);
    assertThat(vms.stop("web", Duration.ofSeconds(1)).state()).isEqualTo(VmState.STOPPED);
    assertThatThrownBy(() -> migrations.outgoing("web", next)).as("a new migration gets past the record")
        .hasMessageContaining("only a running vm migrates live");
  }

  @Test
  void unlockOutgoing_otherMigrationOrNoReason_isRefusedAndTheRecordKept() {
    assertThatThrownBy(() -> migrations.unlockOutgoing("web", new OutgoingUnlock("m0", "stale")))
        .hasMessageContaining("has a record of migration m1 on this host, not of m0");
    assertThatThrownBy(() -> migrations.unlockOutgoing("web", new OutgoingUnlock("m1", " ")))
        .hasMessageContaining("reason");

    assertThat(migrations.outgoingStats("web").phase()).isEqualTo(OutgoingPhase.COMPLETED);
  }

  @Test
  void unlockOutgoing_runningRecord_isRefusedNamingThePhase() {
    new MigrationStore(tmp).write("web", new OutgoingRecord(OutgoingRecord.ROLE, "m1", OutgoingPhase.MIGRATING,
        "tcp:127.0.0.1:49152", Map.of(), Map.of(), null, List.of(), true, Instant.now(), Instant.now(), null, null, null,
        null, null, null));

    assertThatThrownBy(() -> migrations.unlockOutgoing("web", new OutgoingUnlock("m1", "stuck")))
        .hasMessageContaining("is migrating on this host and its runner still drives it");
    assertThat(new MigrationStore(tmp).outgoing("web")).isPresent();
  }

  @Test
  void reclaimOutgoing_anotherMigrationNoReasonOrNoSourceQemu_isRefusedAndTheRecordKept() {
    assertThatThrownBy(() -> migrations.reclaimOutgoing("web", new OutgoingReclaim("m0", "target died unresumed")))
        .isInstanceOf(AgentException.class).hasMessageContaining("record of migration m1");
    assertThatThrownBy(() -> migrations.reclaimOutgoing("web", new OutgoingReclaim("m1", " ")))
        .isInstanceOf(AgentException.class).hasMessageContaining("reason");
    assertThatThrownBy(() -> migrations.reclaimOutgoing("web", new OutgoingReclaim("m1", "target died unresumed")))
        .isInstanceOf(AgentException.class).hasMessageContaining("gone too");
    assertThat(migrations.outgoingStats("web").phase()).isEqualTo(OutgoingPhase.COMPLETED);
  }
}
