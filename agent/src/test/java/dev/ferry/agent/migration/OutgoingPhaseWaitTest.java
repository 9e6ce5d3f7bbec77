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
import dev.ferry.api.agent.OutgoingPhase;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller's long poll of a source's stats: the request returns when the phase moves (the
 * runner's compare-and-set after QEMU's event), when the migration is no longer watched, or at
 * its deadline, and never spins. Real store on disk, no QEMU (the phase is moved as the runner
 * moves it).
 */
class OutgoingPhaseWaitTest {

  @TempDir Path tmp;
  OutgoingMigrations outgoing;
  OutgoingMigrations.Outgoing o;

  @BeforeEach
  void aWatchedMigrationCopyingRam() {
    var store = new MigrationStore(tmp);
    outgoing = new OutgoingMigrations(null, store, new Busy());
    var r = new OutgoingRecord(OutgoingRecord.ROLE, "m1", OutgoingPhase.MIGRATING, "tcp:127.0.0.1:49152", Map.of(),
        Map.of(), null, List.of(), true, Instant.now(), Instant.now(), null, null, null, null, null, null);
    store.write("web", r);
    o = new OutgoingMigrations.Outgoing("web", r, null);
    outgoing.watch(o);
  }

  @Test
  void awaitLeaving_returnsWhenThePhaseMoves_notAtItsDeadline() throws Exception {
    var waiting = CompletableFuture.runAsync(() -> outgoing.awaitLeaving("web", OutgoingPhase.MIGRATING,
        Duration.ofSeconds(20)));
    Thread.sleep(200);
    assertThat(waiting).as("still waiting while the phase stays").isNotDone();

    long t0 = System.nanoTime();
    outgoing.advance(o, OutgoingPhase.COMPLETED, r -> r);
    waiting.get(5, TimeUnit.SECONDS);

    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
  }

  @Test
  void awaitLeaving_returnsWhenTheMigrationIsNoLongerWatched() throws Exception {
    var waiting = CompletableFuture.runAsync(() -> outgoing.awaitLeaving("web", OutgoingPhase.MIGRATING,
        Duration.ofSeconds(20)));
    Thread.sleep(200);
    assertThat(waiting).isNotDone();

    outgoing.unwatch("web");

    waiting.get(5, TimeUnit.SECONDS);
  }

  @Test
  void awaitLeaving_unchangedPhase_waitsItsTime_andAnotherPhaseAnswersAtOnce() {
    long t0 = System.nanoTime();
    outgoing.awaitLeaving("web", OutgoingPhase.MIGRATING, Duration.ofMillis(300));
    long waited = System.nanoTime() - t0;
    assertThat(Duration.ofNanos(waited)).isBetween(Duration.ofMillis(290), Duration.ofSeconds(5));

    t0 = System.nanoTime();
    outgoing.awaitLeaving("web", OutgoingPhase.SWITCHOVER, Duration.ofSeconds(20));
    outgoing.awaitLeaving("other", OutgoingPhase.MIGRATING, Duration.ofSeconds(20));
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("nothing to wait for").isLessThan(Duration.ofSeconds(2));
  }

  @Test
  void outgoingStats_badWaitOrPhase_isRefusedNamingTheParameter() throws Exception {
    Path dir = tmp.resolve("agent");
    var qemu = new QemuInstallation(Path.of("/bin/false"), Path.of("/usr/bin/qemu-img"), new QemuVersion(7, 2, 0),
        List.of("q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)"));
    var host = new QemuHost(qemu, Accelerator.TCG);
    Pools pools = Pools.load(dir, "h1");
    var migrations = Migrations.start(dir, Vms.load(dir, "h1", pools, host), pools, host, "127.0.0.1");

    assertThatThrownBy(() -> migrations.outgoingStats("web", "migrating", 60_000)).isInstanceOf(AgentException.class)
        .hasMessageContaining("wait_ms").hasMessageContaining("0 to 5000 ms");
    assertThatThrownBy(() -> migrations.outgoingStats("web", "copying", 100)).isInstanceOf(AgentException.class)
        .hasMessageContaining("unless").hasMessageContaining("'copying'").hasMessageContaining("migrating");
  }
}
