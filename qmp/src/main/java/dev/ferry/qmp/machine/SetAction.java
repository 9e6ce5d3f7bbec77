package dev.ferry.qmp.machine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;

/**
 * {@code set-action} (QEMU 6.0+) with its {@code shutdown} member: what QEMU does when the guest
 * powers itself off. {@code pause} is {@code -no-shutdown} set at run time: QEMU stops the VM
 * (run state {@code shutdown}, block devices flushed) and stays, so its block nodes, dirty bitmaps
 * and NBD exports outlive the guest; {@code poweroff} is QEMU's default (it exits).
 *
 * @param shutdown QAPI {@code ShutdownAction}: {@code poweroff} or {@code pause}
 */
public record SetAction(String shutdown) implements QmpCommand<Void> {

  public SetAction {
    if (!shutdown.equals("poweroff") && !shutdown.equals("pause")) {
      throw new IllegalArgumentException("shutdown action must be poweroff or pause: " + shutdown);
    }
  }

  @Override
  public String name() {
    return "set-action";
  }

  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create().with("shutdown", shutdown).build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
