package dev.ferry.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.machine.Cont;
import dev.ferry.qmp.machine.QueryStatus;
import dev.ferry.qmp.migration.QueryMigrate;
import java.nio.file.Path;
import java.time.Duration;
import dev.ferry.qmp.block.BlockdevDel;
import dev.ferry.qmp.export.NbdServerStop;
import dev.ferry.qmp.object.QomSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QmpClientCallTest {

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

  @Test
  void call_typedQueryStatus_parsesStatusInfo() {
    qemu.expect("query-status")
        .reply("{\"status\": \"paused\", \"singlestep\": false, \"running\": false}");

    assertThat(client.call(new QueryStatus()))
        .isEqualTo(new QueryStatus.StatusInfo("paused", false));
  }

  @Test
  void call_withArguments_sendsTheGoldenLineAndReturnsTheReturnMember() {
    qemu.expect("migrate-set-parameters").reply("{}");
    Map<String, Object> arguments = new LinkedHashMap<>();
    arguments.put("max-bandwidth", 1_073_741_824L);
    arguments.put("downtime-limit", 300);

    JsonNode ret = client.call("migrate-set-parameters", arguments, LONG);

    assertThat(ret.isObject() && ret.isEmpty()).isTrue();
    assertThat(qemu.received()).last().isEqualTo("{\"execute\":\"migrate-set-parameters\","
        + "\"arguments\":{\"max-bandwidth\":1073741824,\"downtime-limit\":300},\"id\":2}");
  }

  @Test
  void send_twoConcurrentCalls_repliesArriveOutOfOrderAndReachTheirCallers() throws Exception {
    FakeQmpServer.Held first = qemu.expect("query-status").hold();
    qemu.expect("query-migrate").reply("{\"status\": \"active\"}");
    CountDownLatch answerFirst = qemu.gate();
    first.reply("{\"status\": \"running\", \"running\": true}");

    CompletableFuture<QueryStatus.StatusInfo> status = client.send(new QueryStatus(), LONG);
    CompletableFuture<QueryMigrate.MigrationInfo> migration = client.send(new QueryMigrate(), LONG);

    assertThat(migration.get().status()).isEqualTo("active");
    assertThat(status).isNotDone();
    answerFirst.countDown();
    assertThat(status.get()).isEqualTo(new QueryStatus.StatusInfo("running", true));
  }

  @Test
  void callInOrder_sendsEveryCommandBeforeAnyReply_andAnswersEachFailureInItsPlace() {
    // the script reads all three before it answers one: a client waiting for each reply never gets one
    FakeQmpServer.Held stop = qemu.expect("nbd-server-stop").hold();
    FakeQmpServer.Held set = qemu.expect("qom-set").hold();
    FakeQmpServer.Held del = qemu.expect("blockdev-del").hold();
    stop.replyError("GenericError", "NBD server not running");
    set.reply("{}");
    del.replyError("GenericError", "Node 'disk0-staged' is busy");

    List<QmpException> failed = client.callInOrder(List.of(new NbdServerStop(),
        new QomSet("/machine/peripheral/disk0-dev", "drive", "disk0"), new BlockdevDel("disk0-staged")), PROMPTLY);

    assertThat(failed).hasSize(3);
    assertThat(failed.get(0)).isInstanceOfSatisfying(QmpErrorException.class,
        e -> assertThat(e.desc()).isEqualTo("NBD server not running"));
    assertThat(failed.get(1)).isNull();
    assertThat(failed.get(2)).isInstanceOfSatisfying(QmpErrorException.class,
        e -> assertThat(e.command()).isEqualTo("blockdev-del"));
    assertThat(qemu.received()).last().isEqualTo("{\"execute\":\"blockdev-del\","
        + "\"arguments\":{\"node-name\":\"disk0-staged\"},\"id\":4}");
    assertThat(qemu.received()).anyMatch(l -> l.equals("{\"execute\":\"qom-set\",\"arguments\":{\"path\":"
        + "\"/machine/peripheral/disk0-dev\",\"property\":\"drive\",\"value\":\"disk0\"},\"id\":3}"));
  }

  @Test
  void call_errorReply_throwsErrorExceptionWithCommandClassAndDesc() {
    qemu.expect("migrate").replyError("GenericError", "There's a migration process in progress");

    assertThatThrownBy(() -> client.call("migrate", Map.of("uri", "tcp:10.0.0.2:4444"), LONG))
        .isInstanceOfSatisfying(QmpErrorException.class, e -> {
          assertThat(e.command()).isEqualTo("migrate");
          assertThat(e.errorClass()).isEqualTo("GenericError");
          assertThat(e.desc()).isEqualTo("There's a migration process in progress");
          assertThat(e.socket()).isEqualTo(qemu.socket());
          assertThat(e).hasMessage("qmp command 'migrate' failed: GenericError: "
              + "There's a migration process in progress");
        });
    assertThat(client.isOpen()).isTrue();
  }

  @Test
  void call_noReplyByItsDeadline_timesOutAndTheClientStillWorks() {
    FakeQmpServer.Held slow = qemu.expect("query-status").hold();
    Duration deadline = Duration.ofMillis(100);

    assertThatThrownBy(() -> client.call(new QueryStatus(), deadline))
        .isInstanceOfSatisfying(QmpTimeoutException.class, e -> {
          assertThat(e.command()).contains("query-status");
          assertThat(e.deadline()).isEqualTo(deadline);
          assertThat(e).hasMessage("qmp command 'query-status' got no reply from %s within 100 ms",
              qemu.socket());
        });

    slow.reply("{\"status\": \"running\", \"running\": true}"); // too late: dropped
    qemu.expect("query-migrate").reply("{\"status\": \"completed\"}");
    assertThat(client.call(new QueryMigrate()).status()).isEqualTo("completed");
    assertThat(client.isOpen()).isTrue();
  }

  @Test
  void call_replyWithUnknownIdBeforeIt_isDroppedAndTheCallGetsItsOwnReply() {
    qemu.sendRaw("{\"return\": {\"status\": \"stray\", \"running\": false}, \"id\": 999}");
    qemu.sendRaw("{\"return\": {}}");
    qemu.expect("query-status").reply("{\"status\": \"running\", \"running\": true}");

    assertThat(client.call(new QueryStatus()).status()).isEqualTo("running");
  }

  @Test
  void call_returnOfTheWrongShape_failsWithProtocolExceptionAndKeepsTheConnection() {
    qemu.expect("query-status").reply("{\"status\": \"running\"}");

    assertThatThrownBy(() -> client.call(new QueryStatus()))
        .isInstanceOf(QmpProtocolException.class)
        .hasMessageStartingWith("unexpected return from qmp command 'query-status' on "
            + qemu.socket() + ": member 'running' missing or not a boolean");
    assertThat(client.isOpen()).isTrue();
  }

  @Test
  void close_callPending_failsItWithConnectionException() throws Exception {
    FakeQmpServer.Held held = qemu.expect("query-status").hold();
    CompletableFuture<JsonNode> status = client.send("query-status", Map.of(), LONG);
    held.awaitRead();

    client.close();

    assertThat(status).failsWithin(PROMPTLY).withThrowableOfType(ExecutionException.class)
        .havingCause().isInstanceOf(QmpConnectionException.class)
        .withMessage("qmp connection to %s closed while 'query-status' was pending: "
            + "closed by the client", qemu.socket());
    assertThat(client.isOpen()).isFalse();
  }

  @Test
  void send_afterClose_failsImmediately() {
    client.close();

    CompletableFuture<JsonNode> status = client.send("query-status", Map.of(), LONG);

    assertThat(status).isCompletedExceptionally();
    assertThatThrownBy(() -> client.call(new Cont()))
        .isInstanceOf(QmpConnectionException.class)
        .hasMessage("qmp connection to %s is closed (closed by the client); cannot send 'cont'",
            qemu.socket());
  }

  @Test
  void close_calledTwice_isHarmless() {
    client.close();
    client.close();

    assertThat(client.isOpen()).isFalse();
  }

  @Test
  void send_argumentsJacksonCannotWrite_failsAtTheCallSite() {
    Map<String, Object> arguments = Map.of("bad", new Object());

    assertThatThrownBy(() -> client.send("object-add", arguments, LONG))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(client.isOpen()).isTrue();
  }
}
