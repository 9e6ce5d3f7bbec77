package dev.ferry.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client against a scripted server: handshake refusals, broken replies, hang-ups. */
class NbdClientFakeServerTest {

  private static final long SIZE = 1 << 20;
  private static final String DIRTY = MetaContexts.dirtyBitmap("bm0");

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

  private NbdClient connect(List<String> contexts) {
    return NbdClient.connect(server.address(), "disk0", contexts,
        NbdOptions.defaults().withIoTimeout(Duration.ofSeconds(5)));
  }

  private NbdClient connected() {
    server.handshakeStart().go("disk0", SIZE);
    client = connect(List.of());
    return client;
  }

  private static byte[] filled(int length, int value) {
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) value);
    return bytes;
  }

  @Test
  void connect_exportNotFound_throwsOptionExceptionNamingExportAndSocket() {
    byte[] message = "export 'disk0' not present".getBytes(StandardCharsets.UTF_8);
    server.handshakeStart().expectGo("disk0")
        .optionReply(Protocol.NBD_OPT_GO, Protocol.NBD_REP_ERR_UNKNOWN, message)
        .expect(ByteBuffer.allocate(16).putLong(Protocol.IHAVEOPT).putInt(Protocol.NBD_OPT_ABORT)
            .putInt(0).flip(), "NBD_OPT_ABORT");

    assertThatThrownBy(() -> connect(List.of()))
        .isInstanceOfSatisfying(NbdOptionException.class, e -> {
          assertThat(e.isUnknownExport()).isTrue();
          assertThat(e.option()).isEqualTo("NBD_OPT_GO");
          assertThat(e.exportName()).isEqualTo("disk0");
        })
        .hasMessage("nbd export 'disk0' not found at unix:%s (NBD_REP_ERR_UNKNOWN: export "
            + "'disk0' not present)", dir.resolve("nbd.sock"));
  }

  @Test
  void connect_metaContextNotOffered_namesTheMissingContext() {
    server.handshakeStart()
        .metaContexts("disk0", List.of(MetaContexts.BASE_ALLOCATION, DIRTY),
            List.of(MetaContexts.BASE_ALLOCATION));

    assertThatThrownBy(() -> connect(List.of(MetaContexts.BASE_ALLOCATION, DIRTY)))
        .isInstanceOf(NbdOptionException.class)
        .hasMessageEndingWith("server does not offer meta context qemu:dirty-bitmap:bm0 "
            + "(selected: [base:allocation])");
  }

  @Test
  void connect_notAnNbdServer_isProtocolError() {
    server.send(ByteBuffer.wrap("SSH-2.0-OpenSSH_9.2\r\n".getBytes(StandardCharsets.US_ASCII)));

    assertThatThrownBy(() -> connect(List.of()))
        .isInstanceOf(NbdProtocolException.class)
        .hasMessageContaining("not an nbd server: greeting magic 0x5353482d322e302d");
  }

  @Test
  void connect_nobodyListening_throwsConnectionException() {
    NbdAddress nowhere = NbdAddress.unix(dir.resolve("nobody.sock"));

    assertThatThrownBy(() -> NbdClient.connect(nowhere, "disk0", List.of()))
        .isInstanceOf(NbdConnectionException.class)
        .hasMessageStartingWith("cannot connect to nbd export 'disk0' at unix:"
            + dir.resolve("nobody.sock"));
  }

  @Test
  void read_dataAndHoleChunksOutOfOrder_assemblesTheRange() {
    connected();
    server.expectRequest(Protocol.NBD_CMD_READ, 1, 4096, 8192)
        .offsetData(0, 1, 8192, filled(4096, 0x5a))
        .offsetHole(Protocol.NBD_REPLY_FLAG_DONE, 1, 4096, 4096);

    byte[] data = client.read(4096, 8192);

    assertThat(Arrays.copyOfRange(data, 0, 4096)).containsOnly(0);
    assertThat(Arrays.copyOfRange(data, 4096, 8192)).containsOnly(0x5a);
  }

  @Test
  void read_longerThanTheRequestLimit_isSplit() {
    server.handshakeStart().go("disk0", SIZE);
    client = NbdClient.connect(server.address(), "disk0", List.of(),
        NbdOptions.defaults().withMaxRequestSize(4096));
    server.expectRequest(Protocol.NBD_CMD_READ, 1, 0, 4096)
        .offsetData(Protocol.NBD_REPLY_FLAG_DONE, 1, 0, filled(4096, 1))
        .expectRequest(Protocol.NBD_CMD_READ, 2, 4096, 1000)
        .offsetData(Protocol.NBD_REPLY_FLAG_DONE, 2, 4096, filled(1000, 2));

    byte[] data = client.read(0, 5096);

    assertThat(data[0]).isEqualTo((byte) 1);
    assertThat(data[5095]).isEqualTo((byte) 2);
  }

  @Test
  void read_serverHangsUpMidData_throwsConnectionExceptionAndTheClientIsBroken() {
    connected();
    server.expectRequest(Protocol.NBD_CMD_READ, 1, 0, 65536)
        .send(FakeNbdServer.chunkHeader(Protocol.NBD_REPLY_FLAG_DONE,
            Protocol.NBD_REPLY_TYPE_OFFSET_DATA, 1, 8 + 65536))
        .send(ByteBuffer.allocate(8 + 1000).putLong(0).flip())
        .hangUp();

    assertThatThrownBy(() -> client.read(0, 65536))
        .isInstanceOf(NbdConnectionException.class)
        .hasMessage("nbd server hung up on export 'disk0' at unix:%s while the client read the "
            + "data of NBD_REPLY_TYPE_OFFSET_DATA at offset 0", dir.resolve("nbd.sock"));
    assertThat(client.isOpen()).isFalse();
    assertThatThrownBy(() -> client.read(0, 512))
        .isInstanceOf(NbdConnectionException.class)
        .hasMessageContaining("is closed: broken by an earlier failure: nbd server hung up");
  }

  @Test
  void read_oversizeChunk_isRefusedBeforeItsPayload() {
    connected();
    server.expectRequest(Protocol.NBD_CMD_READ, 1, 0, 4096)
        .send(FakeNbdServer.chunkHeader(Protocol.NBD_REPLY_FLAG_DONE,
            Protocol.NBD_REPLY_TYPE_OFFSET_DATA, 1, 8 + (64 << 20)));

    assertThatThrownBy(() -> client.read(0, 4096))
        .isInstanceOf(NbdProtocolException.class)
        .hasMessageEndingWith("oversize NBD_REPLY_TYPE_OFFSET_DATA of 67108864 bytes in reply "
            + "to a read of 4096 bytes at offset 0");
    assertThat(client.isOpen()).isFalse();
  }

  @Test
  void read_chunkOutsideTheRequest_isProtocolError() {
    connected();
    server.expectRequest(Protocol.NBD_CMD_READ, 1, 0, 4096)
        .offsetData(Protocol.NBD_REPLY_FLAG_DONE, 1, 2048, filled(4096, 0));

    assertThatThrownBy(() -> client.read(0, 4096))
        .isInstanceOf(NbdProtocolException.class)
        .hasMessageEndingWith("NBD_REPLY_TYPE_OFFSET_DATA at offset 2048 length 4096 outside "
            + "the request at offset 0 length 4096");
  }

  @Test
  void read_replyLeavesAGap_isProtocolError() {
    connected();
    server.expectRequest(Protocol.NBD_CMD_READ, 1, 0, 4096)
        .offsetHole(Protocol.NBD_REPLY_FLAG_DONE, 1, 0, 1024);

    assertThatThrownBy(() -> client.read(0, 4096))
        .isInstanceOf(NbdProtocolException.class)
        .hasMessageEndingWith("reply to NBD_CMD_READ at offset 0 length 4096 covered 1024 bytes");
  }

  @Test
  void read_replyWithAnotherCookie_isProtocolError() {
    connected();
    // header and payload in one write: the client hangs up after the header
    server.expectRequest(Protocol.NBD_CMD_READ, 1, 0, 512)
        .send(ByteBuffer.allocate(32).put(FakeNbdServer.chunkHeader(Protocol.NBD_REPLY_FLAG_DONE,
            Protocol.NBD_REPLY_TYPE_OFFSET_HOLE, 99, 12)).putLong(0).putInt(512).flip());

    assertThatThrownBy(() -> client.read(0, 512))
        .isInstanceOf(NbdProtocolException.class)
        .hasMessageEndingWith("reply with cookie 99, which no request in flight has (in flight: "
            + "[1])");
    assertThat(client.isOpen()).isFalse();
  }

  @Test
  void read_errorChunk_failsTheCommandButTheConnectionStaysUsable() {
    connected();
    server.expectRequest(Protocol.NBD_CMD_READ, 1, 0, 512)
        .errorChunk(Protocol.NBD_REPLY_FLAG_DONE, 1, 5, "Input/output error")
        .expectRequest(Protocol.NBD_CMD_READ, 2, 512, 512)
        .offsetData(Protocol.NBD_REPLY_FLAG_DONE, 2, 512, filled(512, 7));

    assertThatThrownBy(() -> client.read(0, 512))
        .isInstanceOfSatisfying(NbdCommandException.class,
            e -> assertThat(e.error()).isEqualTo(5))
        .hasMessage("nbd NBD_CMD_READ failed on export 'disk0' at unix:%s at offset 0 length "
            + "512: NBD_EIO: Input/output error", dir.resolve("nbd.sock"));
    assertThat(client.isOpen()).isTrue();
    assertThat(client.read(512, 512)).containsOnly(7);
  }

  @Test
  void read_serverSilent_timesOutAndBreaksTheConnection() {
    server.handshakeStart().go("disk0", SIZE);
    client = NbdClient.connect(server.address(), "disk0", List.of(),
        NbdOptions.defaults().withIoTimeout(Duration.ofMillis(200)));
    server.expectRequest(Protocol.NBD_CMD_READ, 1, 0, 512).stall(1000);

    assertThatThrownBy(() -> client.read(0, 512))
        .isInstanceOfSatisfying(NbdTimeoutException.class,
            e -> assertThat(e.timeout()).isEqualTo(Duration.ofMillis(200)))
        .hasMessageEndingWith("made no progress for 200 ms while reading the reply to "
            + "NBD_CMD_READ");
    assertThat(client.isOpen()).isFalse();
  }

  @Test
  void read_beyondTheExport_isRefusedBeforeSending() {
    connected();

    assertThatThrownBy(() -> client.read(SIZE - 512, 1024))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("read out of bounds: offset 1048064 length 1024, export 'disk0' at unix:%s "
            + "has 1048576 bytes", dir.resolve("nbd.sock"));
    assertThat(client.isOpen()).isTrue();
  }

  @Test
  void blockStatus_twoContexts_returnsTheAskedOneCutAndMerged() {
    server.handshakeStart()
        .metaContexts("disk0", List.of(MetaContexts.BASE_ALLOCATION, DIRTY),
            List.of(MetaContexts.BASE_ALLOCATION, DIRTY))
        .go("disk0", SIZE);
    client = connect(List.of(MetaContexts.BASE_ALLOCATION, DIRTY));
    // the server covers the first 128 KiB only, then the rest with a last extent past the end
    server.expectRequest(Protocol.NBD_CMD_BLOCK_STATUS, 1, 0, 262144)
        .blockStatus(0, 1, 1, 262144, 3)
        .blockStatus(Protocol.NBD_REPLY_FLAG_DONE, 1, 2, 65536, 0, 65536, 1)
        .expectRequest(Protocol.NBD_CMD_BLOCK_STATUS, 2, 131072, 131072)
        .blockStatus(0, 2, 2, 65536, 1, 1048576, 0)
        .blockStatus(Protocol.NBD_REPLY_FLAG_DONE, 2, 1, 131072, 3);

    assertThat(client.blockStatus(0, 262144, DIRTY)).containsExactly(
        new Extent(0, 65536, 0), new Extent(65536, 131072, 1), new Extent(196608, 65536, 0));
  }

  @Test
  void blockStatus_contextNotNegotiated_isRefused() {
    connected();

    assertThatThrownBy(() -> client.blockStatus(0, 4096, DIRTY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("meta context 'qemu:dirty-bitmap:bm0' was not negotiated");
  }

  @Test
  void close_sendsDisc() {
    connected();
    server.expectRequest(Protocol.NBD_CMD_DISC, 1, 0, 0);

    client.close();

    assertThat(client.isOpen()).isFalse();
    assertThatThrownBy(() -> client.read(0, 512))
        .isInstanceOf(NbdConnectionException.class)
        .hasMessageEndingWith("is closed: closed by the client");
  }
}
