package dev.ferry.agent.qemu;

import java.util.regex.Pattern;

/**
 * One virtio-blk disk. QEMU gets two explicit block nodes: {@code <id>-file} (the protocol
 * layer) and {@code <id>} (the format layer, what mirrors and exports name as their device).
 *
 * @param id   stable within the VM; also the node name (e.g. {@code disk0})
 * @param path absolute path of the image on this host
 */
public record DiskSpec(String id, String path, DiskFormat format) {

  private static final Pattern ID = Pattern.compile("[a-z][a-z0-9]{0,15}");
  public static final String ID_RULE = "1-16 lower-case letters and digits, starting with a letter";

  public DiskSpec {
    if (!validId(id)) {
      throw new IllegalArgumentException("disk id '" + id + "' is not valid: " + ID_RULE);
    }
    if (path == null || !path.startsWith("/")) {
      throw new IllegalArgumentException("disk " + id + " path '" + path + "' must be absolute");
    }
    if (format == null) {
      throw new IllegalArgumentException("disk " + id + " needs a format (qcow2 or raw)");
    }
  }

  /** Whether {@code id} may name a disk; it becomes part of node names and image file names. */
  public static boolean validId(String id) {
    return id != null && ID.matcher(id).matches();
  }

  public String fileNode() {
    return id + "-file";
  }

  public String formatNode() {
    return id;
  }

  public String deviceId() {
    return id + "-dev";
  }
}
