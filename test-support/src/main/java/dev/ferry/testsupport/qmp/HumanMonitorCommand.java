package dev.ferry.testsupport.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;

/**
 * {@code human-monitor-command}: runs an HMP command and returns its output. Tests use it to
 * write through {@code qemu-io NODE "write -P 0x11 2M 64k"}.
 *
 * <p>HMP failures are not QMP errors: QEMU returns them as the output text (e.g. a permission
 * conflict from {@code qemu-io} on a node a guest device uses without {@code share-rw}), so
 * callers must read the output. QEMU 7.2's {@code qemu-io} prints its success report on QEMU's
 * stdout, not into the returned text, which is then empty.
 *
 * @param commandLine the HMP command line
 */
public record HumanMonitorCommand(String commandLine) implements QmpCommand<String> {

  public HumanMonitorCommand {
    ArgumentMap.requireName(commandLine, "commandLine");
  }

  @Override
  public String name() {
    return "human-monitor-command";
  }

  @Override
  public Map<String, ?> arguments() {
    return Map.of("command-line", commandLine);
  }

  @Override
  public String parse(JsonNode ret) {
    if (!ret.isTextual()) {
      throw new IllegalArgumentException("human-monitor-command return is not a string");
    }
    return ret.asText();
  }
}
