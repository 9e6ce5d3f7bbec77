package dev.ferry.controller.hosts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.FtBinaryView;
import dev.ferry.api.FtView;
import dev.ferry.api.HostView;
import dev.ferry.api.Json;
import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.controller.events.EventBus;
import dev.ferry.controller.store.Store;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A host's FT capability travels from its latest heartbeat to the host view (host list --json). */
class HeartbeatFtTest {

  @TempDir Path dir;
  Store store;
  EventBus bus;
  HostRegistry registry;

  static final FtView FT = new FtView(true, "/opt/ferry-qemu", "COLO self-test passed: 3 COLO checkpoints",
      List.of(new FtBinaryView("/opt/ferry-qemu", "ab", FtBinaryView.SUPPORTED, "3 COLO checkpoints", 3, 1264L),
          new FtBinaryView("/usr/bin/qemu-system-x86_64", "cd", FtBinaryView.UNSUPPORTED,
              "the COLO primary stopped answering QMP", 0, 3435L)));

  @BeforeEach
  void start() {
    var clock = java.time.InstantSource.fixed(Instant.parse("2026-12-05T12:00:00Z"));
    store = Store.open(dir, null, null, null);
    bus = new EventBus(store.events(), clock);
    registry = new HostRegistry(store, bus, clock, Duration.ofSeconds(10));
  }

  @AfterEach
  void stop() {
    bus.close();
    store.close();
  }

  private static AgentHeartbeat beat(FtView ft) {
    return new AgentHeartbeat("h1", "http://127.0.0.1:1", 2, 1L << 32, "7.2.22", "tcg", List.of(), List.of(), "tcg",
        List.of(), List.of(), List.of(), ft);
  }

  @Test
  void heartbeat_withFt_hostViewShowsItAsSnakeCaseJson() throws Exception {
    registry.heartbeat(beat(FT));

    HostView h = registry.views().getFirst();
    assertThat(h.ft()).isEqualTo(FT);
    String json = Json.mapper().writeValueAsString(h);
    assertThat(json).contains("\"ft\":{\"supported\":true,\"binary\":\"/opt/ferry-qemu\"")
        .contains("\"probe_millis\":1264");
  }

  @Test
  void heartbeat_fromAnAgentWithoutFt_dropsTheEarlierFinding() {
    registry.heartbeat(beat(FT));
    registry.heartbeat(beat(null));

    assertThat(registry.views().getFirst().ft()).isNull();
  }
}
