package dev.ferry.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.qmp.machine.Cont;
import dev.ferry.qmp.machine.QueryStatus;
import dev.ferry.qmp.machine.Quit;
import dev.ferry.qmp.migration.QueryMigrate;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QmpClientEventTest {

  private static final Duration LONG = Duration.ofSeconds(30);
  private static final Duration PROMPTLY = Duration.ofSeconds(2);

  @TempDir
  Path dir;

  private FakeQmpServer qemu;
  private QmpClient client;

  @BeforeEach
  void connect() throws Exception {
    qemu = FakeQmpServer.start(dir);
    client = QmpClient.connect(qemu.socket(), Duration.ofSeconds(5));
  }

  @AfterEach
  void close() throws Exception {
    client.close();
    qemu.close();
  }

  private static Predicate<QmpEvent> named(String name) {
    return event -> event.name().equals(name);
  }

  private static void await(CountDownLatch latch) throws InterruptedException {
    assertThat(latch.await(5, TimeUnit.SECONDS)).as("latch opened in time").isTrue();
  }

  @Test
  void subscribe_eventsInterleavedWithReplies_reachTheListenerInOrder() throws Exception {
    List<QmpEvent> seen = new CopyOnWriteArrayList<>();
    CountDownLatch three = new CountDownLatch(3);
    client.subscribe(event -> {
      seen.add(event);
      three.countDown();
    });
    qemu.emit("STOP", null);
    qemu.expect("query-status").reply("{\"status\": \"paused\", \"running\": false}");
    qemu.emit("MIGRATION", "{\"status\": \"setup\"}");
    qemu.expect("query-migrate").reply("{\"status\": \"setup\"}");
    qemu.emit("MIGRATION", "{\"status\": \"active\"}");

    assertThat(client.call(new QueryStatus()).status()).isEqualTo("paused");
    assertThat(client.call(new QueryMigrate()).status()).isEqualTo("setup");
    await(three);

    assertThat(seen).extracting(QmpEvent::name).containsExactly("STOP", "MIGRATION", "MIGRATION");
    assertThat(seen).extracting(event -> event.data().path("status").asText())
        .containsExactly("", "setup", "active");
    assertThat(seen.getFirst().data().isEmpty()).isTrue();
    assertThat(seen.getFirst().timestamp()).isEqualTo(Instant.ofEpochSecond(
        FakeQmpServer.EVENT_SECONDS, FakeQmpServer.EVENT_MICROS * 1_000));
  }

  @Test
  void subscribe_byName_receivesOnlyThatEvent() throws Exception {
    List<String> seen = new CopyOnWriteArrayList<>();
    CountDownLatch ready = new CountDownLatch(1);
    client.subscribe("BLOCK_JOB_READY", event -> {
      seen.add(event.data().path("device").asText());
      ready.countDown();
    });
    qemu.emit("JOB_STATUS_CHANGE", "{\"id\": \"mirror0\", \"status\": \"running\"}");
    qemu.emit("BLOCK_JOB_READY", "{\"device\": \"mirror0\", \"type\": \"mirror\"}");

    await(ready);

    assertThat(seen).containsExactly("mirror0");
  }

  @Test
  void subscribe_listenerThrows_isLoggedAndStillGetsLaterEvents() throws Exception {
    List<String> seen = new CopyOnWriteArrayList<>();
    CountDownLatch two = new CountDownLatch(2);
    client.subscribe(event -> {
      seen.add(event.name());
      two.countDown();
      throw new IllegalStateException("listener bug");
    });
    qemu.emit("STOP", null);
    qemu.emit("RESUME", null);

    await(two);

    assertThat(seen).containsExactly("STOP", "RESUME");
    assertThat(client.isOpen()).isTrue();
  }

  @Test
  void subscribe_listenerBlocks_repliesStillArrive() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    client.subscribe(event -> {
      entered.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    qemu.emit("STOP", null);
    await(entered);
    qemu.expect("query-status").reply("{\"status\": \"paused\", \"running\": false}");

    try {
      assertThat(client.call(new QueryStatus(), PROMPTLY).running()).isFalse();
    } finally {
      release.countDown();
    }
  }

  @Test
  void subscription_closed_getsNoFurtherEvents() throws Exception {
    List<String> first = new CopyOnWriteArrayList<>();
    CountDownLatch stopped = new CountDownLatch(1);
    QmpSubscription subscription = client.subscribe(event -> {
      first.add(event.name());
      stopped.countDown();
    });
    qemu.emit("STOP", null);
    await(stopped);

    subscription.close();
    CountDownLatch resumed = new CountDownLatch(1);
    client.subscribe("RESUME", event -> resumed.countDown());
    qemu.expect("cont").reply("{}");
    qemu.emit("RESUME", null);
    client.call(new Cont());
    await(resumed);

    assertThat(first).containsExactly("STOP");
  }

  @Test
  void awaitEvent_eventEmittedRightAfterTheReply_isSeen() {
    qemu.expect("cont").reply("{}");
    qemu.emit("RESUME", null);

    client.call(new Cont());

    assertThat(client.awaitEvent(named("RESUME"), PROMPTLY).name()).isEqualTo("RESUME");
  }

  /**
   * The race awaitEvent exists for: the event arrives, and is even delivered, before the caller
   * starts waiting. A wait that only subscribed at call time would sit out its deadline.
   */
  @Test
  void awaitEvent_eventDeliveredBeforeTheWaitBegins_isStillSeen() throws Exception {
    CountDownLatch delivered = new CountDownLatch(1);
    client.subscribe("BLOCK_JOB_READY", event -> delivered.countDown());
    qemu.expect("blockdev-mirror").reply("{}");
    qemu.emit("BLOCK_JOB_READY", "{\"device\": \"mirror0\"}");

    client.call("blockdev-mirror", Map.of("job-id", "mirror0"), PROMPTLY);
    await(delivered);

    assertThat(client.awaitEvent(named("BLOCK_JOB_READY"), PROMPTLY).data().path("device")
        .asText()).isEqualTo("mirror0");
  }

  @Test
  void awaitEvent_eventFromBeforeTheCommand_isNotReturned() {
    qemu.emit("JOB_STATUS_CHANGE", "{\"id\": \"old\", \"status\": \"concluded\"}");
    qemu.expect("query-status").reply("{\"status\": \"running\", \"running\": true}");
    qemu.expect("job-dismiss").reply("{}");
    qemu.emit("JOB_STATUS_CHANGE", "{\"id\": \"mirror0\", \"status\": \"null\"}");

    client.call(new QueryStatus()); // its reply follows the old event, so that one has been read
    client.call("job-dismiss", Map.of("id", "mirror0"), PROMPTLY);

    assertThat(client.awaitEvent(named("JOB_STATUS_CHANGE"), PROMPTLY).data().path("id").asText())
        .isEqualTo("mirror0");
  }

  @Test
  void awaitEvent_twiceForTheSameKind_returnsSuccessiveEvents() {
    qemu.expect("migrate").reply("{}");
    qemu.emit("MIGRATION", "{\"status\": \"setup\"}");
    qemu.emit("MIGRATION", "{\"status\": \"active\"}");

    client.call("migrate", Map.of("uri", "tcp:10.0.0.2:4444"), PROMPTLY);

    assertThat(client.awaitEvent(named("MIGRATION"), PROMPTLY).data().path("status").asText())
        .isEqualTo("setup");
    assertThat(client.awaitEvent(named("MIGRATION"), PROMPTLY).data().path("status").asText())
        .isEqualTo("active");
  }

  @Test
  void awaitEvent_noMatchByTheDeadline_throwsTimeoutException() {
    qemu.expect("cont").reply("{}");
    qemu.emit("RESUME", null);
    client.call(new Cont());
    Duration deadline = Duration.ofMillis(100);

    assertThatThrownBy(() -> client.awaitEvent(named("STOP"), deadline))
        .isInstanceOfSatisfying(QmpTimeoutException.class, e -> {
          assertThat(e.command()).isEmpty();
          assertThat(e.deadline()).isEqualTo(deadline);
        });
  }

  @Test
  void awaitEvent_connectionDropsWhileWaiting_failsPromptlyWithConnectionException() {
    CompletableFuture<QmpEvent> waiting;
    try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      waiting = CompletableFuture.supplyAsync(() -> client.awaitEvent(named("STOP"), LONG),
          executor);
      qemu.disconnect();

      assertThat(waiting).failsWithin(PROMPTLY).withThrowableOfType(ExecutionException.class)
          .havingCause().isInstanceOf(QmpConnectionException.class);
    }
  }

  @Test
  void awaitEvent_afterQuitClosedTheConnection_stillReturnsTheShutdownEvent() {
    qemu.expect("quit").reply("{}");
    qemu.emit("SHUTDOWN", "{\"guest\": false, \"reason\": \"host-qmp-quit\"}");
    qemu.disconnect();

    client.call(new Quit());

    assertThat(client.awaitEvent(named("SHUTDOWN"), PROMPTLY).data().path("reason").asText())
        .isEqualTo("host-qmp-quit");
  }
}
