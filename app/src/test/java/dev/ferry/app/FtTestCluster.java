package dev.ferry.app;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A local cluster for the fault-tolerance tests ({@code ./ferry test-ft}): its agents probe Ferry's
 * QEMU build (FERRY_FT_QEMU; the tests are skipped without it), the test guest's kernel and initrd
 * lie in pool {@code shared} (a secondary boots from the same definition), and it returns once
 * every host passed the probe. The components' pids are owned by the test.
 */
record FtTestCluster(FerryProcess ferry, Path kernel, Path initrd) {

  static final Duration PROBE = Duration.ofSeconds(180);

  static FtTestCluster up(Path dir, int hosts, OwnedProcesses owned) throws Exception {
    return up(dir, hosts, owned, java.util.Map.of());
  }

  /** The same with {@code env} in every component's environment (e.g. FERRY_FAULT_DIR), also when it is started again. */
  static FtTestCluster up(Path dir, int hosts, OwnedProcesses owned, java.util.Map<String, String> env) throws Exception {
    String built = System.getenv("FERRY_FT_QEMU");
    assumeTrue(built != null && !built.isBlank(), "FERRY_FT_QEMU not set: run ./ferry test-ft to build Ferry's QEMU");
    // the suite turns the probe off for its many agents; these must find the FT build
    FerryProcess ferry = new FerryProcess(dir).withEnv("FERRY_FT_PROBE", "on");
    for (var e : env.entrySet()) ferry = ferry.withEnv(e.getKey(), e.getValue());
    ferry.ok("cluster", "up", "--hosts", Integer.toString(hosts));
    ferry.componentPids().forEach(owned::own);
    Path guestDir = Files.createDirectories(dir.resolve("pools/shared/guest"));
    Path kernel = Files.copy(TestGuest.get().kernel(), guestDir.resolve("vmlinuz"));
    Path initrd = Files.copy(TestGuest.get().initrd(), guestDir.resolve("initrd.img"));
    long until = System.nanoTime() + PROBE.toNanos();
    while (true) {
      JsonNode list = ferry.ok("host", "list", "--json").json();
      long capable = 0;
      for (JsonNode h : list) if (h.at("/ft/supported").asBoolean()) capable++;
      if (capable == hosts) break;
      if (System.nanoTime() > until) throw new AssertionError("hosts not FT-capable within " + PROBE + ": " + list);
      Thread.sleep(1000);
    }
    return new FtTestCluster(ferry, kernel, initrd);
  }
}
