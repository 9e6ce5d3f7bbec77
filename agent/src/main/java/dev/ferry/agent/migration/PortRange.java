package dev.ferry.agent.migration;

/**
 * The TCP ports this host's QEMUs listen on for other hosts: incoming migration streams, NBD
 * servers for copied disks, post-copy recovery. A fixed range lets a firewall open exactly these
 * between the hosts; each listener takes one port for one stream.
 */
public record PortRange(int first, int last) {

  /** 64 ports at the start of the dynamic range: 21 migrations with copied disks and a recovery each. */
  public static final PortRange DEFAULT = new PortRange(49152, 49215);

  public PortRange {
    if (first < 1024 || last > 65535 || first > last) {
      throw new IllegalArgumentException("port range " + first + "-" + last + " is not valid: FIRST-LAST within 1024-65535");
    }
  }

  /** {@code FIRST-LAST}, e.g. {@code 49152-49215}; one port alone is {@code N-N}. */
  public static PortRange parse(String text) {
    String[] parts = text == null ? new String[0] : text.strip().split("-", -1);
    if (parts.length != 2) {
      throw new IllegalArgumentException("port range '" + text + "' is not valid: FIRST-LAST, e.g. 49152-49215");
    }
    try {
      return new PortRange(Integer.parseInt(parts[0].strip()), Integer.parseInt(parts[1].strip()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("port range '" + text + "' is not valid: FIRST-LAST, e.g. 49152-49215");
    }
  }

  public int size() {
    return last - first + 1;
  }

  @Override
  public String toString() {
    return first + "-" + last;
  }
}
