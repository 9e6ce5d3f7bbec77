package dev.ferry.controller;

import static dev.ferry.controller.FakeAgent.stats;
import static dev.ferry.controller.TestCluster.GIB;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.QemuMigrationStatus;
import dev.ferry.api.DiskRequest;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.PoolCreateRequest;
import dev.ferry.api.VmCreateRequest;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-host limit on concurrent migrations ({@code --max-migrations-per-host}): a live migration
 * touching a host that already takes part in that many is refused with 409, naming the limit and
 * the option. Migrations are held in pre-copy by the source agent so that they overlap.
 */
class MigrationLimitTest {

  @TempDir Path dir;
  TestCluster c;

  @AfterEach
  void stop() {
    if (c != null) c.close();
  }

  /** host1 runs web, app and api; host3 runs db; every disk on a shared pool; host1 and host3 never finish sending. */
  private void cluster(ControllerConfig config) throws Exception {
    c = new TestCluster(config);
    FakeAgent host1 = c.hostWithLocalPool("host1");
    c.hostWithLocalPool("host2");
    FakeAgent host3 = c.hostWithLocalPool("host3");
    assertThat(c.post("/api/pools", new PoolCreateRequest("shared", null, "/pools/shared", true)).status()).isEqualTo(201);
    for (String[] vm : new String[][] {{"web", "host1"}, {"app", "host1"}, {"api", "host1"}, {"db", "host3"}}) {
      assertThat(c.post("/api/vms", new VmCreateRequest(vm[0], vm[1], GIB, 1, "/pools/shared/vmlinuz", null, null, null,
          List.of(new DiskRequest(GIB, "shared", null)), true)).status()).isEqualTo(201);
    }
    for (FakeAgent a : c.agents) a.heartbeat(c.controller.url());
    for (FakeAgent source : List.of(host1, host3)) {
      source.script.add(stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, 100L << 20, 900L << 20, 20L << 20, 1, 2000L));
      source.holdAt = 0;
    }
  }

  private static LiveMigrationRequest live(String vm, String to) {
    return new LiveMigrationRequest(vm, to, null, null, null, null, null, null, null, null, null);
  }

  private void started(String vm, String to) throws Exception {
    TestCluster.Reply r = c.post("/api/migrations/live", live(vm, to));
    assertThat(r.status()).as(r.body()).isEqualTo(201);
  }

  private void refused(String vm, String to, String field, String host, int busy, int limit) throws Exception {
    TestCluster.Reply r = c.post("/api/migrations/live", live(vm, to));
    assertThat(r.status()).as(r.body()).isEqualTo(409);
    assertThat(r.field()).as(r.body()).isEqualTo(field);
    assertThat(r.json().get("detail").asText()).isEqualTo("host '" + host + "' already takes part in " + busy
        + (busy == 1 ? " migration" : " migrations") + ", at most " + limit
        + " at once (controller option --max-migrations-per-host); try again later");
  }

  @Test
  void limitOne_secondMigrationFromTheSameSource_is409NamingTheLimit() throws Exception {
    cluster(ControllerConfig.loopback(dir, null).withMaxMigrationsPerHost(1));
    started("web", "host2");

    refused("app", "host3", "vm", "host1", 1, 1);

    assertThat(c.get("/api/migrations").json()).hasSize(1);
  }

  @Test
  void limitOne_secondMigrationToTheSameTarget_is409NamingTo() throws Exception {
    cluster(ControllerConfig.loopback(dir, null).withMaxMigrationsPerHost(1));
    started("web", "host2");

    refused("db", "host2", "to", "host2", 1, 1);

    assertThat(c.get("/api/migrations").json()).hasSize(1);
  }

  /** B7: storage migrations counted toward the limit but were never refused by it. */
  @Test
  void limitOne_storageMigrationOnABusyHost_is409NamingTheLimit() throws Exception {
    cluster(ControllerConfig.loopback(dir, null).withMaxMigrationsPerHost(1));
    started("web", "host2");

    TestCluster.Reply r = c.post("/api/migrations/storage",
        new dev.ferry.api.StorageMigrationRequest("api", "local", null, null, null, null, null));

    assertThat(r.status()).as(r.body()).isEqualTo(409);
    assertThat(r.field()).isEqualTo("vm");
    assertThat(r.json().get("detail").asText()).contains("host 'host1' already takes part in 1 migration, at most 1");
    assertThat(c.get("/api/migrations").json()).hasSize(1);
  }

  /**
   * B7: the memory check ran outside the lock of the insert, so two migrations arriving at once
   * could both count the same free memory. host4 has room for one 1 GiB vm, not two.
   */
  @Test
  void twoMigrationsAtOnceToATargetWithRoomForOne_exactlyOneIsAdmitted() throws Exception {
    cluster(ControllerConfig.loopback(dir, null).withMaxMigrationsPerHost(4));
    c.agent("host4", GIB + GIB / 2);
    assertThat(c.post("/api/pools", new PoolCreateRequest("shared", "host4", "/pools/shared", true)).status()).isEqualTo(201);
    var pool = new java.util.concurrent.ConcurrentLinkedQueue<Integer>();
    Thread a = Thread.ofVirtual().start(() -> pool.add(status(live("web", "host4"))));
    Thread b = Thread.ofVirtual().start(() -> pool.add(status(live("db", "host4"))));
    a.join();
    b.join();

    assertThat(pool).containsExactlyInAnyOrder(201, 409);
    assertThat(c.get("/api/migrations").json()).hasSize(1);
  }

  /** B7: the store itself refuses a second running migration of one vm, whatever the controller's lock. */
  @Test
  void store_secondRunningMigrationOfOneVm_isRefusedByTheDatabase() throws Exception {
    cluster(ControllerConfig.loopback(dir, null));
    started("web", "host2");
    c.controller.close();
    var store = dev.ferry.controller.store.Store.open(c.config.dataDir(), c.config.dbUrl(), c.config.dbUser(),
        c.config.dbPassword());
    try {
      var now = java.time.Instant.now();
      var twin = new dev.ferry.controller.store.MigrationRow("twin", "storage", "web", "host1", "host1",
          dev.ferry.api.MigrationStatus.RUNNING, "pending", "{}", "{}", false, now, now);
      var other = new dev.ferry.controller.store.MigrationRow("other", "storage", "app", "host1", "host1",
          dev.ferry.api.MigrationStatus.RUNNING, "pending", "{}", "{}", false, now, now);

      assertThat(store.migrations().insert(twin)).isFalse();
      assertThat(store.migrations().insert(other)).isTrue();
      assertThat(store.migrations().running()).extracting(dev.ferry.controller.store.MigrationRow::vm)
          .containsExactlyInAnyOrder("web", "app");
      // ended again, so that the restarted controller below has only real migrations to recover
      store.migrations().advance("other", "pending", "rolled_back", dev.ferry.api.MigrationStatus.CANCELLED, "{}", now);
    } finally {
      store.close();
      c.controller = Controller.start(c.config);
    }
  }

  private int status(LiveMigrationRequest r) {
    try {
      return c.post("/api/migrations/live", r).status();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void defaultLimit_allowsTwoAtOnceAndRefusesTheThird() throws Exception {
    cluster(ControllerConfig.loopback(dir, null));
    assertThat(c.config.maxMigrationsPerHost()).isEqualTo(ControllerConfig.DEFAULT_MAX_MIGRATIONS_PER_HOST).isEqualTo(2);
    started("web", "host2");
    started("app", "host3");

    refused("api", "host2", "vm", "host1", 2, 2);

    assertThat(c.get("/api/migrations").json()).hasSize(2)
        .allSatisfy(m -> assertThat(m.get("status").asText()).isEqualTo("running"));
  }
}
