package dev.ferry.nbd;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fixed-newstyle handshake, in the order the spec asks for: the server's greeting
 * ({@code NBDMAGIC}, {@code IHAVEOPT}, handshake flags), the client flags,
 * {@link OptStartTls} when TLS is wanted (the rest then goes over TLS),
 * {@link OptStructuredReply}, {@link OptSetMetaContext} when contexts are wanted, and
 * {@link OptGo}. If an option is refused the client sends {@code NBD_OPT_ABORT} (best effort)
 * before the caller drops the connection.
 */
final class Handshake {

  private static final Logger log = LoggerFactory.getLogger(Handshake.class);

  /**
   * The outcome.
   *
   * @param export what the client reports about the export
   * @param contextIds each selected metadata context's id, by name
   */
  record Negotiated(ExportInfo export, Map<String, Integer> contextIds) {}

  private Handshake() {}

  /** The client flags sent in reply to the server's handshake flags. */
  static ByteBuffer clientFlags(int serverFlags) {
    int flags = Protocol.NBD_FLAG_C_FIXED_NEWSTYLE;
    if ((serverFlags & Protocol.NBD_FLAG_NO_ZEROES) != 0) {
      flags |= Protocol.NBD_FLAG_C_NO_ZEROES;
    }
    return ByteBuffer.allocate(4).putInt(flags).flip();
  }

  /** Runs the handshake; with {@code tls} not null, upgrades to TLS before any other option. */
  static Negotiated run(Wire wire, Peer peer, List<String> metaContexts, NbdTls tls) {
    ByteBuffer greeting = wire.read(18, "the handshake greeting");
    long magic = greeting.getLong();
    if (magic != Protocol.NBDMAGIC) {
      throw peer.protocolError("not an nbd server: greeting magic 0x%x", magic);
    }
    long style = greeting.getLong();
    if (style == Protocol.CLISERV_MAGIC) {
      throw peer.protocolError("the server speaks the oldstyle handshake, which cannot name an "
          + "export or negotiate options");
    }
    if (style != Protocol.IHAVEOPT) {
      throw peer.protocolError("unknown handshake magic 0x%x", style);
    }
    int serverFlags = Short.toUnsignedInt(greeting.getShort());
    if ((serverFlags & Protocol.NBD_FLAG_FIXED_NEWSTYLE) == 0) {
      throw peer.protocolError("the server does not offer the fixed newstyle handshake");
    }
    wire.write(clientFlags(serverFlags), "the client flags");
    try {
      if (tls != null) {
        // the spec: a server that requires TLS refuses every other option before it
        OptStartTls.negotiate(wire, peer);
        wire.startTls(tls);
        log.debug("nbd {}: TLS with {}", peer, tls.hostname());
      }
      boolean structured = OptStructuredReply.negotiate(wire, peer);
      Map<String, Integer> contexts = Map.of();
      if (!metaContexts.isEmpty()) {
        if (!structured) {
          throw NbdOptionException.lacking(peer.address(), peer.exportName(),
              Protocol.NBD_OPT_STRUCTURED_REPLY,
              "server does not support structured replies, which meta contexts need");
        }
        contexts = OptSetMetaContext.negotiate(wire, peer, metaContexts);
      }
      OptGo.Result go = OptGo.negotiate(wire, peer);
      int maximumPayload = (int) Math.min(Integer.toUnsignedLong(go.maximumPayload()),
          Integer.MAX_VALUE);
      ExportInfo export = new ExportInfo(peer.exportName(), go.size(), go.transmissionFlags(),
          go.minimumBlockSize(), go.preferredBlockSize(), maximumPayload, structured,
          List.copyOf(contexts.keySet()));
      log.debug("nbd {}: negotiated {}", peer, export);
      return new Negotiated(export, contexts);
    } catch (NbdOptionException e) {
      abortQuietly(wire);
      throw e;
    }
  }

  /** {@code NBD_OPT_ABORT}: tells the server the client gives up; its reply is not awaited. */
  private static void abortQuietly(Wire wire) {
    try {
      wire.write(OptionRequest.encode(Protocol.NBD_OPT_ABORT, ByteBuffer.allocate(0)),
          "NBD_OPT_ABORT");
    } catch (NbdException e) {
      log.debug("sending NBD_OPT_ABORT failed", e);
    }
  }
}
