package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * A typed QMP command: its name and arguments, and how to read its {@code return} value. One
 * class per command, named as in QEMU's QAPI schema ({@code query-status} is
 * {@link dev.ferry.qmp.machine.QueryStatus}).
 *
 * @param <R> the parsed return value; {@link Void} for commands that return {@code {}}
 */
public interface QmpCommand<R> {

  /** The command name as in the QAPI schema, e.g. {@code query-status}. */
  String name();

  /**
   * The command's arguments; empty for none. Values are written with Jackson: strings, numbers,
   * booleans, lists, maps, {@link JsonNode}s; a {@link java.nio.file.Path} is written as its
   * plain string.
   */
  default Map<String, ?> arguments() {
    return Map.of();
  }

  /**
   * Reads the reply's {@code return} member. Throwing (e.g. {@link IllegalArgumentException} for
   * a missing member) makes the call fail with a {@link QmpProtocolException}.
   */
  R parse(JsonNode ret);
}
