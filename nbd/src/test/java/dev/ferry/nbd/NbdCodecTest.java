package dev.ferry.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** Golden bytes for every message the client sends, and the decoders of what it receives. */
class NbdCodecTest {

  private static final Peer PEER = new Peer(NbdAddress.unix(Path.of("/run/nbd.sock")), "disk0");

  private static String hex(ByteBuffer bytes) {
    return FakeNbdServer.hex(bytes);
  }

  private static ByteBuffer bytes(String hex) {
    return ByteBuffer.wrap(HexFormat.of().parseHex(hex.replace(" ", "")));
  }

  @Test
  void clientFlags_serverOffersNoZeroes_fixedNewstyleAndNoZeroes() {
    assertThat(hex(Handshake.clientFlags(0b11))).isEqualTo("00000003");
  }

  @Test
  void clientFlags_serverWithoutNoZeroes_onlyFixedNewstyle() {
    assertThat(hex(Handshake.clientFlags(0b01))).isEqualTo("00000001");
  }

  @Test
  void optStructuredReply_isIhaveoptOption8NoData() {
    assertThat(hex(OptStructuredReply.encode()))
        .isEqualTo("49484156454f5054" + "00000008" + "00000000");
  }

  @Test
  void optGo_exportNameAndBlockSizeRequest() {
    assertThat(hex(OptGo.encode("disk0", Protocol.NBD_INFO_BLOCK_SIZE))).isEqualTo(
        "49484156454f5054" + "00000007" + "0000000d" // IHAVEOPT, NBD_OPT_GO, 13 bytes
            + "00000005" + "6469736b30" // name length, "disk0"
            + "0001" + "0003"); // one info request: NBD_INFO_BLOCK_SIZE
  }

  @Test
  void optGo_defaultExport_emptyName() {
    assertThat(hex(OptGo.encode(""))).isEqualTo(
        "49484156454f5054" + "00000007" + "00000006" + "00000000" + "0000");
  }

  @Test
  void optSetMetaContext_exportAndTwoQueries() {
    assertThat(hex(OptSetMetaContext.encode("d", List.of("base:allocation", "qemu:x"))))
        .isEqualTo("49484156454f5054" + "0000000a" + "00000026" // option 10, 38 bytes
            + "00000001" + "64" // export "d"
            + "00000002" // two queries
            + "0000000f" + "626173653a616c6c6f636174696f6e" // "base:allocation"
            + "00000006" + "71656d753a78"); // "qemu:x"
  }

  @Test
  void optGo_exportNameOver4096Bytes_isRefused() {
    assertThatThrownBy(() -> OptGo.encode("x".repeat(4097)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("export name longer than 4096 bytes");
  }

  @Test
  void request_read_is28Bytes() {
    assertThat(hex(Request.encode(0, Protocol.NBD_CMD_READ, 7, 1 << 20, 65536)))
        .isEqualTo("25609513" + "0000" + "0000" + "0000000000000007" + "0000000000100000"
            + "00010000");
  }

  @Test
  void request_blockStatus() {
    assertThat(hex(Request.encode(0, Protocol.NBD_CMD_BLOCK_STATUS, 2, 0, 1 << 30)))
        .isEqualTo("25609513" + "0000" + "0007" + "0000000000000002" + "0000000000000000"
            + "40000000");
  }

  @Test
  void request_disc() {
    assertThat(hex(Request.encode(0, Protocol.NBD_CMD_DISC, 9, 0, 0)))
        .isEqualTo("25609513" + "0000" + "0002" + "0000000000000009" + "0000000000000000"
            + "00000000");
  }

  @Test
  void simpleReply_decodesErrorAndCookie() {
    assertThat(SimpleReply.decode(bytes("00000005 0000000000000003")))
        .isEqualTo(new SimpleReply(5, 3));
  }

  @Test
  void structuredReplyChunk_decodesHeaderWithUnsignedLength() {
    StructuredReplyChunk chunk = StructuredReplyChunk.decode(
        bytes("0001 0001 000000000000000c ffffffff"));

    assertThat(chunk).isEqualTo(new StructuredReplyChunk(1, 1, 12, 0xffffffffL));
    assertThat(chunk.isDone()).isTrue();
    assertThat(chunk.isError()).isFalse();
    assertThat(chunk.typeName()).isEqualTo("NBD_REPLY_TYPE_OFFSET_DATA");
  }

  @Test
  void errorPayload_errorOffset_decodesMessageAndOffset() {
    StructuredReplyChunk.ErrorPayload error = StructuredReplyChunk.ErrorPayload.decode(
        bytes("00000005 0004 62616421 0000000000200000"), Protocol.NBD_REPLY_TYPE_ERROR_OFFSET,
        PEER);

    assertThat(error).isEqualTo(new StructuredReplyChunk.ErrorPayload(5, "bad!",
        OptionalLong.of(2 << 20)));
  }

  @Test
  void errorPayload_messageLongerThanChunk_isProtocolError() {
    assertThatThrownBy(() -> StructuredReplyChunk.ErrorPayload.decode(
        bytes("00000005 0010 6261"), Protocol.NBD_REPLY_TYPE_ERROR, PEER))
        .isInstanceOf(NbdProtocolException.class)
        .hasMessage("nbd protocol error from export 'disk0' at unix:/run/nbd.sock: "
            + "error chunk message of 16 bytes does not fit its chunk");
  }

  @Test
  void decodeExtents_consecutiveFromOffset() {
    assertThat(CmdBlockStatus.decodeExtents(bytes("00010000 00000003 00020000 00000000"),
        4096, 1 << 20, PEER)).containsExactly(new Extent(4096, 65536, 3),
        new Extent(4096 + 65536, 131072, 0));
  }

  @Test
  void decodeExtents_descriptorAfterTheRequestedLength_isProtocolError() {
    assertThatThrownBy(() -> CmdBlockStatus.decodeExtents(
        bytes("00010000 00000000 00010000 00000001"), 0, 65536, PEER))
        .isInstanceOf(NbdProtocolException.class)
        .hasMessageContaining("continue past the requested length 65536");
  }

  @Test
  void decodeExtents_zeroLength_isProtocolError() {
    assertThatThrownBy(() -> CmdBlockStatus.decodeExtents(bytes("00000000 00000000"), 0, 512,
        PEER))
        .isInstanceOf(NbdProtocolException.class)
        .hasMessageContaining("descriptor of length 0 at offset 0");
  }

  @Test
  void optionReplyHeader_wrongOption_isProtocolError() {
    ByteBuffer header = bytes("0003e889045565a9 00000008 00000001 00000000");

    assertThatThrownBy(() -> OptionReply.checkHeader(header, PEER, Protocol.NBD_OPT_GO))
        .isInstanceOf(NbdProtocolException.class)
        .hasMessageEndingWith("reply to NBD_OPT_STRUCTURED_REPLY while NBD_OPT_GO was pending");
  }

  @Test
  void optionReplyHeader_oversizeData_isProtocolError() {
    ByteBuffer header = bytes("0003e889045565a9 00000007 00000003 00100000");

    assertThatThrownBy(() -> OptionReply.checkHeader(header, PEER, Protocol.NBD_OPT_GO))
        .isInstanceOf(NbdProtocolException.class)
        .hasMessageEndingWith("NBD_REP_INFO reply to NBD_OPT_GO of 1048576 bytes exceeds the "
            + "limit of 4160");
  }

  @Test
  void replyName_unknownError_showsTheBit() {
    assertThat(Protocol.replyName(Protocol.NBD_REP_FLAG_ERROR | 42))
        .isEqualTo("NBD_REP_ERR_(2^31+42)");
  }

  @Test
  void dirtyBitmap_isQemusContextName() {
    assertThat(MetaContexts.dirtyBitmap("bm0")).isEqualTo("qemu:dirty-bitmap:bm0");
  }
}
