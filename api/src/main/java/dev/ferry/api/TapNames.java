package dev.ferry.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The tap device of a VM's NIC on a host. Linux allows 15 characters, too few for a VM name, so
 * the name is a digest plus the NIC's index: {@code fy} + 9 hex + {@code n} + index. The digest
 * covers the host, so a live migration's target tap never collides with the source's when both
 * hosts share one kernel (a local cluster); and the MAC, unique in a cluster and random across
 * clusters, so clusters side by side on one machine do not collide either.
 */
public final class TapNames {

  public static final int MAX_NICS = 8;

  private TapNames() {}

  public static String of(String host, String vm, int index, String mac) {
    if (index < 0 || index >= MAX_NICS) throw new IllegalArgumentException("nic index " + index + " is not 0-" + (MAX_NICS - 1));
    try {
      byte[] d = MessageDigest.getInstance("SHA-256")
          .digest((host + "/" + vm + "/" + mac).getBytes(StandardCharsets.UTF_8));
      return "fy" + HexFormat.of().formatHex(d).substring(0, 9) + "n" + index;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }
}
