package dev.ferry.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several requests in flight on one connection, against a scripted server on a real socket: the
 * script only answers once it has read later requests, so a client that waited for each reply
 * before sending the next would stall and fail; replies come back out of order and interleaved,
 * and must land in the right place.
 */
class NbdClientPipelineTest {

  private static final long SIZE = 1 << 20;

  @TempDir
  Path dir;

  private FakeNbdServer server;
  private NbdClient client;

  @BeforeEach
  void start() throws Exception {
    server = FakeNbdServer.start(dir);
  }

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    server.close();
  }

  /** Reads are split at 4096 bytes, so one call puts several requests in flight. */
  private NbdClient connected(int maxInFlight) {
    server.handshakeStart().go("disk0", SIZE);
    client = NbdClient.connect(server.address(), "disk0", List.of(), NbdOptions.defaults()
        .withIoTimeout(Duration.ofSeconds(5)).withMaxRequestSize(4096)
        .withMaxInFlight(maxInFlight));
    return client;
  }

  private static byte[] filled(int length, int value) {
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) value);
    return bytes;
  }

  @Test
  void read_repliesOutOfOrderAndInterleaved_eachLandsInItsPlace() {
    connected(16);
    server.expectRequest(Protocol.NBD_CMD_READ, 1, 0, 4096)
        .expectRequest(Protocol.NBD_CMD_READ, 2, 4096, 4096)
        .expectRequest(Protocol.NBD_CMD_READ, 3, 8192, 4096)
        // 3 first, 2 in two chunks with 1 between them
        .offsetData(Protocol.NBD_REPLY_FLAG_DONE, 3, 8192, filled(4096, 3))
        .offsetData(0, 2, 6144, filled(2048, 0x22))
        .offsetHole(Protocol.NBD_REPLY_FLAG_DONE, 1, 0, 4096)
        .offsetData(Protocol.NBD_REPLY_FLAG_DONE, 2, 4096, filled(2048, 0x21));

    byte[] data = client.read(0, 3 * 4096);

    assertThat(Arrays.copyOfRange(data, 0, 4096)).containsOnly(0);
    assertThat(Arrays.copyOfRange(data, 4096, 6144)).containsOnly(0x21);
    assertThat(Arrays.copyOfRange(data, 6144, 8192)).containsOnly(0x22);
    assertThat(Arrays.copyOfRange(data, 8192, 12288)).containsOnly(3);
  }

  @Test
  void read_maxInFlightReached_holdsTheNextRequestUntilAReply() {
    connected(2);
    server.expectRequest(Protocol.NBD_CMD_READ, 1, 0, 4096)
        .expectRequest(Protocol.NBD_CMD_READ, 2, 4096, 4096)
        .expectNothingFor(300)
        .offsetData(Protocol.NBD_REPLY_FLAG_DONE, 2, 4096, filled(4096, 2))
        .expectRequest(Protocol.NBD_CMD_READ, 3, 8192, 4096)
        .offsetData(Protocol.NBD_REPLY_FLAG_DONE, 3, 8192, filled(4096, 3))
        .offsetData(Protocol.NBD_REPLY_FLAG_DONE, 1, 0, filled(4096, 1));

    byte[] data = client.read(0, 3 * 4096);

    assertThat(data[0]).isEqualTo((byte) 1);
    assertThat(data[4096]).isEqualTo((byte) 2);
    assertThat(data[12287]).isEqualTo((byte) 3);
  }

  @Test
  void read_oneOfTwoInFlightFails_theCallFailsAfterBothAndTheConnectionStaysUsable() {
    connected(16);
    server.expectRequest(Protocol.NBD_CMD_READ, 1, 0, 4096)
        .expectRequest(Protocol.NBD_CMD_READ, 2, 4096, 4096)
        .errorChunk(Protocol.NBD_REPLY_FLAG_DONE, 2, 5, "Input/output error")
        .offsetData(Protocol.NBD_REPLY_FLAG_DONE, 1, 0, filled(4096, 1))
        .expectRequest(Protocol.NBD_CMD_READ, 3, 0, 512)
        .offsetData(Protocol.NBD_REPLY_FLAG_DONE, 3, 0, filled(512, 9));

    assertThatThrownBy(() -> client.read(0, 8192))
        .isInstanceOfSatisfying(NbdCommandException.class,
            e -> assertThat(e.error()).isEqualTo(5))
        .hasMessageContaining("at offset 4096 length 4096: NBD_EIO: Input/output error");
    assertThat(client.isOpen()).isTrue();
    assertThat(client.read(0, 512)).containsOnly(9);
  }

  @Test
  void read_serverHangsUpWithTwoCallsInFlight_bothFailAndTheClientIsBroken() throws Exception {
    connected(16);
    server.expectRequest(Protocol.NBD_CMD_READ, 1, 0, 512)
        .expectRequest(Protocol.NBD_CMD_READ, 2, 4096, 512)
        .offsetData(0, 1, 0, filled(256, 1)) // half of 1, then nothing
        .hangUp();

    CompletableFuture<byte[]> first = CompletableFuture.supplyAsync(() -> client.read(0, 512));
    // the second call starts once the first request is on the wire, so cookies are predictable
    Thread.sleep(100);
    CompletableFuture<byte[]> second = CompletableFuture.supplyAsync(() -> client.read(4096, 512));

    for (CompletableFuture<byte[]> call : List.of(first, second)) {
      assertThatThrownBy(() -> call.get(5, TimeUnit.SECONDS))
          .hasCauseInstanceOf(NbdConnectionException.class)
          .hasMessageContaining("nbd server hung up on export 'disk0'");
    }
    assertThat(client.isOpen()).isFalse();
  }

  @Test
  void write_twoPiecesAnsweredInReverse_bothAcknowledged() {
    server.handshakeStart();
    server.expectGo("disk0");
    server.optionReply(Protocol.NBD_OPT_GO, Protocol.NBD_REP_INFO, ByteBuffer.allocate(12)
        .putShort((short) Protocol.NBD_INFO_EXPORT).putLong(SIZE)
        .putShort((short) (Protocol.NBD_FLAG_HAS_FLAGS | Protocol.NBD_FLAG_SEND_FLUSH)).array());
    server.optionReply(Protocol.NBD_OPT_GO, Protocol.NBD_REP_ACK, new byte[0]);
    client = NbdClient.connect(server.address(), "disk0", List.of(), NbdOptions.defaults()
        .withIoTimeout(Duration.ofSeconds(5)).withMaxRequestSize(4096));
    server.expectRequest(Protocol.NBD_CMD_WRITE, 1, 0, 4096)
        .expect(ByteBuffer.wrap(filled(4096, 7)), "data 1")
        .expectRequest(Protocol.NBD_CMD_WRITE, 2, 4096, 4096)
        .expect(ByteBuffer.wrap(filled(4096, 7)), "data 2")
        .chunk(Protocol.NBD_REPLY_FLAG_DONE, Protocol.NBD_REPLY_TYPE_NONE, 2, ByteBuffer.allocate(0))
        .chunk(Protocol.NBD_REPLY_FLAG_DONE, Protocol.NBD_REPLY_TYPE_NONE, 1, ByteBuffer.allocate(0))
        .expectRequest(Protocol.NBD_CMD_FLUSH, 3, 0, 0)
        .chunk(Protocol.NBD_REPLY_FLAG_DONE, Protocol.NBD_REPLY_TYPE_NONE, 3, ByteBuffer.allocate(0));

    ByteBuffer src = ByteBuffer.wrap(filled(8192, 7));
    client.write(0, src);
    client.flush();

    assertThat(src.hasRemaining()).isFalse();
  }

  @Test
  void close_withACallInFlight_failsItAsClosedByTheClient() throws Exception {
    connected(16);
    server.expectRequest(Protocol.NBD_CMD_READ, 1, 0, 512)
        .expectRequest(Protocol.NBD_CMD_DISC, 2, 0, 0);
    CompletableFuture<byte[]> call = CompletableFuture.supplyAsync(() -> client.read(0, 512));
    // the request is on the wire once the server reads it; the script reads DISC only after it
    Thread.sleep(200);

    client.close();

    assertThatThrownBy(() -> call.get(5, TimeUnit.SECONDS))
        .hasCauseInstanceOf(NbdConnectionException.class)
        .hasMessageEndingWith("is closed: closed by the client");
  }
}
