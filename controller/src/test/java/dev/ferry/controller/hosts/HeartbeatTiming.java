package dev.ferry.controller.hosts;

import dev.ferry.api.PoolView;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.controller.events.EventBus;
import dev.ferry.controller.store.Store;
import dev.ferry.controller.store.VmRow;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Not a test (no assertion; surefire does not pick it up by name): the per-heartbeat processing
 * time of a host with 200 VMs, run by hand with {@code -Dtest=HeartbeatTiming} to compare two
 * versions side by side. Speed goals are reported, never asserted.
 */
class HeartbeatTiming {

  @Test
  void measure() throws Exception {
    Path dir = Files.createTempDirectory("hb-timing");
    try (Store store = Store.open(dir, null, null, null); EventBus bus = new EventBus(store.events(), InstantSource.system())) {
      HostRegistry reg = new HostRegistry(store, bus, InstantSource.system(), Duration.ofSeconds(10));
      List<PoolView> pools = List.of(new PoolView("local", "h1", "/pools/h1", false, 1L << 40, 1L << 39));
      reg.heartbeat(new AgentHeartbeat("h1", "http://127.0.0.1:1", 64, 1L << 40, "8.2", "tcg", pools, List.of()));
      List<AgentVmStatus> vms = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        String name = "vm-" + i;
        store.vms().insert(new VmRow(name, "h1", "{}", VmState.RUNNING, 1, 1L << 28, 1L << 28, null, "pc", "qemu64", "tcg",
            1000L + i), List.of());
        vms.add(new AgentVmStatus(name, VmState.RUNNING, 1000L + i, 1L << 28, 1L << 28, null, "pc", "tcg"));
      }
      AgentHeartbeat hb = new AgentHeartbeat("h1", "http://127.0.0.1:1", 64, 1L << 40, "8.2", "tcg", pools, vms);
      for (int i = 0; i < 100; i++) reg.heartbeat(hb); // warm-up
      int n = 500;
      long[] ns = new long[n];
      for (int i = 0; i < n; i++) {
        long t0 = System.nanoTime();
        reg.heartbeat(hb);
        ns[i] = System.nanoTime() - t0;
      }
      Arrays.sort(ns);
      System.out.printf("HEARTBEAT-TIMING 200 vms, %d heartbeats: p50 %.3f ms, p99 %.3f ms, mean %.3f ms%n", n,
          ns[n / 2] / 1e6, ns[n * 99 / 100] / 1e6, Arrays.stream(ns).average().orElse(0) / 1e6);
    }
  }
}
