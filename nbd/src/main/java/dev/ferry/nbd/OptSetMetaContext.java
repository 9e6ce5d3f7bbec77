package dev.ferry.nbd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code NBD_OPT_SET_META_CONTEXT}: selects the metadata contexts (e.g. {@code base:allocation},
 * {@code qemu:dirty-bitmap:bm0}) that {@code NBD_CMD_BLOCK_STATUS} will report, for the export
 * then entered with {@link OptGo}. The server answers one {@code NBD_REP_META_CONTEXT} (an id and
 * the name) per selected context, then {@code NBD_REP_ACK}.
 */
final class OptSetMetaContext {

  private OptSetMetaContext() {}

  static ByteBuffer encode(String exportName, List<String> queries) {
    byte[] name = OptionRequest.utf8(exportName, "export name");
    List<byte[]> encoded = new ArrayList<>();
    int length = 4 + name.length + 4;
    for (String query : queries) {
      byte[] bytes = OptionRequest.utf8(query, "meta context");
      encoded.add(bytes);
      length += 4 + bytes.length;
    }
    ByteBuffer data = ByteBuffer.allocate(length);
    data.putInt(name.length).put(name).putInt(encoded.size());
    encoded.forEach(bytes -> data.putInt(bytes.length).put(bytes));
    return OptionRequest.encode(Protocol.NBD_OPT_SET_META_CONTEXT, data.flip());
  }

  /**
   * Selects {@code queries}; returns each selected context's name and id, in the server's order.
   *
   * @throws NbdOptionException if the server refuses, or does not select every query
   */
  static Map<String, Integer> negotiate(Wire wire, Peer peer, List<String> queries) {
    int option = Protocol.NBD_OPT_SET_META_CONTEXT;
    wire.write(encode(peer.exportName(), queries), Protocol.optionName(option));
    Map<String, Integer> selected = new LinkedHashMap<>();
    while (true) {
      OptionReply reply = OptionReply.read(wire, peer, option);
      switch (reply.type()) {
        case Protocol.NBD_REP_META_CONTEXT -> {
          ByteBuffer data = reply.data();
          if (data.remaining() < 5) {
            throw peer.protocolError("NBD_REP_META_CONTEXT of %d bytes, expected at least 5",
                data.remaining());
          }
          int id = data.getInt();
          selected.put(StandardCharsets.UTF_8.decode(data).toString(), id);
        }
        case Protocol.NBD_REP_ACK -> {
          List<String> missing = queries.stream().filter(q -> !selected.containsKey(q)).toList();
          if (!missing.isEmpty()) {
            throw NbdOptionException.lacking(peer.address(), peer.exportName(), option,
                "server does not offer meta context %s (selected: %s)".formatted(
                    String.join(", ", missing), selected.keySet()));
          }
          return selected;
        }
        default -> throw reply.isError()
            ? NbdOptionException.refused(peer.address(), peer.exportName(), option,
                reply.type(), reply.message())
            : peer.protocolError("unexpected %s to NBD_OPT_SET_META_CONTEXT",
                Protocol.replyName(reply.type()));
      }
    }
  }
}
