package dev.ferry.api;

import java.util.Locale;
import java.util.random.RandomGenerator;
import java.util.regex.Pattern;

/** MAC addresses of guest NICs: how they are written, checked and made. */
public final class Macs {

  private static final Pattern MAC = Pattern.compile("[0-9a-f]{2}(:[0-9a-f]{2}){5}");
  public static final String RULE = "six hex pairs separated by ':' (e.g. 52:54:00:12:34:56), unicast"
      + " (the lowest bit of the first octet clear), not all zero";
  /** QEMU's own prefix; 0x52 has the locally-administered bit set and the multicast bit clear */
  static final String PREFIX = "52:54:00";

  private Macs() {}

  /** The canonical (lower-case) form of {@code mac}, or null when it is not a MAC at all. */
  public static String canonical(String mac) {
    if (mac == null) return null;
    String m = mac.strip().toLowerCase(Locale.ROOT).replace('-', ':');
    return MAC.matcher(m).matches() ? m : null;
  }

  /** Whether {@code mac} (canonical) is a multicast (or broadcast) address: no NIC may have one. */
  public static boolean multicast(String mac) {
    return (Integer.parseInt(mac.substring(0, 2), 16) & 1) != 0;
  }

  /** Whether {@code mac} is one a NIC may have: well-formed, unicast, not all zero. */
  public static boolean valid(String mac) {
    String m = canonical(mac);
    return m != null && m.equals(mac) && !multicast(m) && !m.equals("00:00:00:00:00:00");
  }

  /** A random locally administered unicast MAC under QEMU's prefix. */
  public static String random(RandomGenerator random) {
    int n = random.nextInt(1 << 24);
    return String.format(Locale.ROOT, "%s:%02x:%02x:%02x", PREFIX, n >> 16 & 0xff, n >> 8 & 0xff, n & 0xff);
  }
}
