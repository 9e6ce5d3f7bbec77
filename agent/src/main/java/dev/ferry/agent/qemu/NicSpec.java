package dev.ferry.agent.qemu;

import dev.ferry.api.Names;
import java.util.regex.Pattern;

/**
 * A virtio-net NIC. With a tap name it joins that host interface (vnet_hdr off, as COLO's
 * filters need); without one it gets QEMU's restricted user-mode network, which reaches nothing
 * outside the guest and so is safe on any machine.
 */
public record NicSpec(String mac, String tap) {

  private static final Pattern MAC = Pattern.compile("52:54:00(:[0-9a-f]{2}){3}");

  public NicSpec {
    if (mac == null || !MAC.matcher(mac).matches()) {
      throw new IllegalArgumentException("nic mac '" + mac + "' is not valid: use 52:54:00:xx:xx:xx, lower-case hex");
    }
    if (tap != null && !Names.valid(tap)) {
      throw new IllegalArgumentException("nic tap '" + tap + "' is not valid: " + Names.RULE);
    }
  }
}
