package dev.ferry.qmp.object;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.export.NbdServerStart;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;
import java.util.Objects;

/**
 * {@code chardev-add} of a socket character device: the links of COLO's network proxy (a
 * primary's filters and colo-compare, a secondary's redirectors). The address is QAPI's legacy
 * {@code SocketAddressLegacy}, as {@code nbd-server-start} takes it.
 *
 * <p>A server is added with {@code wait: false}: QEMU listens and goes on, and the peer connects
 * when it is added. A client without {@code reconnect} connects now, so adding one fails at once
 * when nothing listens, which is what Ferry wants: it adds every server before its clients.
 *
 * @param id      the chardev's id, referenced by the filters' {@code indev}/{@code outdev}
 * @param address where to listen or connect
 * @param server  listen ({@code true}) or connect
 */
public record ChardevAdd(String id, NbdServerStart.Address address, boolean server) implements QmpCommand<Void> {

  public ChardevAdd {
    ArgumentMap.requireName(id, "id");
    Objects.requireNonNull(address, "address");
  }

  public static ChardevAdd server(String id, NbdServerStart.Address address) {
    return new ChardevAdd(id, address, true);
  }

  public static ChardevAdd client(String id, NbdServerStart.Address address) {
    return new ChardevAdd(id, address, false);
  }

  @Override
  public String name() {
    return "chardev-add";
  }

  @Override
  public Map<String, ?> arguments() {
    var data = ArgumentMap.create().with("addr", address.toQapi()).with("server", server);
    if (server) data.with("wait", false);
    return ArgumentMap.create()
        .with("id", id)
        .with("backend", ArgumentMap.create().with("type", "socket").with("data", data.build()).build())
        .build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
