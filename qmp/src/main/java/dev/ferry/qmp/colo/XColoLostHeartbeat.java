package dev.ferry.qmp.colo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;

/**
 * {@code x-colo-lost-heartbeat}: tells a COLO primary or secondary that its peer is gone, so it
 * stops checkpointing and runs on alone (the failover). QEMU has no heartbeat of its own: the
 * control plane decides and sends this. On a patched primary a checkpoint in flight holds the BQL
 * while its RAM is sent, so send it with a deadline (colo.md).
 */
public record XColoLostHeartbeat() implements QmpCommand<Void> {

  @Override
  public String name() {
    return "x-colo-lost-heartbeat";
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
