package dev.ferry.agent.qemu;

import java.util.Locale;

/** Image formats Ferry creates and attaches; the QEMU block driver has the same name. */
public enum DiskFormat {
  QCOW2,
  RAW;

  public String driver() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static DiskFormat parse(String s) {
    for (DiskFormat f : values()) {
      if (f.driver().equals(s)) return f;
    }
    throw new IllegalArgumentException("format '" + s + "' is not supported: use qcow2 or raw");
  }
}
