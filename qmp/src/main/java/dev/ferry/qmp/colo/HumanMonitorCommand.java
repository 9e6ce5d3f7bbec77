package dev.ferry.qmp.colo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import java.util.Map;

/**
 * {@code human-monitor-command}: one HMP line. COLO needs it because QEMU 7.2 has no QMP form of
 * {@code drive_add -n buddy …} (a block node that is not a drive's root, here the primary's
 * replication child) nor of the {@code drive_del} that removes it again. HMP answers errors as
 * text, not as a QMP error: {@link #parse} returns that text, which is empty on success.
 *
 * @param commandLine the HMP line, e.g. {@code drive_del disk0-buddy}
 */
public record HumanMonitorCommand(String commandLine) implements QmpCommand<String> {

  public HumanMonitorCommand {
    if (commandLine == null || commandLine.isBlank()) throw new IllegalArgumentException("an HMP command line is needed");
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
    return ret == null || ret.isNull() ? "" : ret.asText().strip();
  }
}
