package dev.ferry.agent.qemu;

import dev.ferry.api.Macs;
import dev.ferry.api.Names;

/**
 * A virtio-net NIC on a tap device attached to {@code bridge}. With {@code vnetHdr} false the tap
 * carries plain frames, as COLO's network filters need; otherwise QEMU negotiates virtio-net
 * headers (offloads). The tap's name is derived from host, VM, index and MAC
 * ({@link dev.ferry.api.TapNames}), so the source's and a live migration target's taps never
 * collide on one kernel.
 */
public record NicSpec(String mac, String tap, String bridge, boolean vnetHdr) {

  public NicSpec {
    if (!Macs.valid(mac)) {
      throw new IllegalArgumentException("nic mac '" + mac + "' is not valid: " + Macs.RULE + ", lower-case hex");
    }
    if (tap == null || tap.length() > 15 || !Names.valid(tap)) {
      throw new IllegalArgumentException("nic tap '" + tap + "' is not valid: at most 15 characters, " + Names.RULE);
    }
    if (bridge == null || !bridge.matches("[A-Za-z0-9_.-]{1,15}")) {
      throw new IllegalArgumentException("nic bridge '" + bridge + "' is not valid: a Linux interface name, at most 15 characters");
    }
  }
}
