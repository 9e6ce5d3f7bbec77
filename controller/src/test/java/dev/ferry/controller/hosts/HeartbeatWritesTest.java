package dev.ferry.controller.hosts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.Event;
import dev.ferry.api.HostState;
import dev.ferry.api.PoolView;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.controller.events.EventBus;
import dev.ferry.controller.store.Store;
import dev.ferry.controller.store.VmRow;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Heartbeats write only what changed. Regression (issue 10, part 5): each heartbeat of a host with
 * 200 VMs ran one query per VM plus a pool rewrite and a host write under one global lock, about
 * 205 statements; at 50 hosts every 2 s this was the store's main load.
 */
class HeartbeatWritesTest {

  static final Duration TIMEOUT = Duration.ofSeconds(10);

  @TempDir Path dir;
  Store store;
  EventBus bus;
  Instant now = Instant.parse("2026-01-01T00:00:00Z");
  final InstantSource clock = () -> now;
  HostRegistry registry;
  final List<PoolView> pools = List.of(new PoolView("local", "h1", "/pools/h1", false, 1L << 40, 1L << 39));
  final List<AgentVmStatus> vms = new ArrayList<>();

  @BeforeEach
  void start() {
    store = Store.open(dir, null, null, null);
    bus = new EventBus(store.events(), clock);
    registry = new HostRegistry(store, bus, clock, TIMEOUT);
    registry.heartbeat(heartbeat(List.of()));
    for (int i = 0; i < 200; i++) {
      store.vms().insert(new VmRow("vm-" + i, "h1", "{}", VmState.RUNNING, 1, 1L << 28, 1L << 28, null, "pc", "qemu64",
          "tcg", 1000L + i), List.of());
      vms.add(new AgentVmStatus("vm-" + i, VmState.RUNNING, 1000L + i, 1L << 28, 1L << 28, null, "pc", "tcg"));
    }
    registry.heartbeat(heartbeat(vms));
  }

  @AfterEach
  void stop() {
    bus.close();
    store.close();
  }

  AgentHeartbeat heartbeat(List<AgentVmStatus> statuses) {
    return new AgentHeartbeat("h1", "http://127.0.0.1:1", 64, 1L << 40, "8.2", "tcg", pools, statuses);
  }

  @Test
  void heartbeat_nothingChanged_runsAFewQueriesAndWritesNothing() {
    now = now.plusSeconds(2);
    List<Event> eventsBefore = store.events().after(0, 10_000);
    long before = store.statements();

    registry.heartbeat(heartbeat(vms));

    // the host, its pools and its VMs: one query each, whatever the number of VMs
    assertThat(store.statements() - before).isLessThanOrEqualTo(3);
    assertThat(store.events().after(0, 10_000)).isEqualTo(eventsBefore);
    assertThat(registry.views().getFirst().lastHeartbeat()).isEqualTo(now);
  }

  @Test
  void heartbeat_oneVmChanged_writesThatVmAndPublishesItsStateOnly() {
    List<AgentVmStatus> next = new ArrayList<>(vms);
    next.set(7, new AgentVmStatus("vm-7", VmState.STOPPED, null, 1L << 28, 1L << 28, null, "pc", "tcg"));
    long lastId = store.events().after(0, 10_000).getLast().id();

    registry.heartbeat(heartbeat(next));

    assertThat(store.vms().find("vm-7").orElseThrow().state()).isEqualTo(VmState.STOPPED);
    assertThat(store.vms().find("vm-7").orElseThrow().pid()).isNull();
    assertThat(store.vms().find("vm-8").orElseThrow().state()).isEqualTo(VmState.RUNNING);
    List<Event> published = store.events().after(lastId, 100);
    assertThat(published).extracting(Event::kind, Event::subject).containsExactly(
        org.assertj.core.groups.Tuple.tuple("vm.state", "vm-7"));
  }

  @Test
  void heartbeat_poolsChanged_replacesThem() {
    List<PoolView> more = List.of(pools.getFirst(), new PoolView("fast", "h1", "/pools/fast", false, 10, 5));
    registry.heartbeat(new AgentHeartbeat("h1", "http://127.0.0.1:1", 64, 1L << 40, "8.2", "tcg", more, vms));

    assertThat(store.pools().onHost("h1")).extracting(PoolView::name).containsExactly("fast", "local");
  }

  /** The stored time lags by up to a timeout; liveness uses the time received, so no host flaps. */
  @Test
  void sweep_storedTimeLagsButHeartbeatsCame_staysOnline_thenSilenceMarksUnreachable() {
    for (int i = 0; i < 20; i++) {
      now = now.plusSeconds(2);
      registry.heartbeat(heartbeat(vms));
      registry.sweep();
    }
    assertThat(registry.views().getFirst().state()).isEqualTo(HostState.ONLINE);
    Instant stored = store.hosts().find("h1").orElseThrow().lastHeartbeat();
    assertThat(stored).isAfterOrEqualTo(now.minus(TIMEOUT));

    now = now.plus(TIMEOUT).plusSeconds(1);
    registry.sweep();
    assertThat(registry.views().getFirst().state()).isEqualTo(HostState.UNREACHABLE);

    registry.heartbeat(heartbeat(vms));
    assertThat(registry.views().getFirst().state()).isEqualTo(HostState.ONLINE);
  }
}
