package dev.ferry.agent.qemu;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A QEMU release number, as printed by {@code qemu-system-x86_64 --version}. */
public record QemuVersion(int major, int minor, int micro) implements Comparable<QemuVersion> {

  private static final Pattern VERSION = Pattern.compile("version (\\d+)\\.(\\d+)(?:\\.(\\d+))?");

  public QemuVersion {
    if (major < 0 || minor < 0 || micro < 0) {
      throw new IllegalArgumentException("qemu version parts must be >= 0, got " + major + "." + minor + "." + micro);
    }
  }

  /** Parses the first line of {@code --version} output, e.g. "QEMU emulator version 7.2.19 (Debian ...)". */
  public static QemuVersion parse(String versionOutput) {
    Matcher m = VERSION.matcher(versionOutput);
    if (!m.find()) {
      throw new IllegalArgumentException("no qemu version in: " + versionOutput.lines().findFirst().orElse(""));
    }
    int micro = m.group(3) == null ? 0 : Integer.parseInt(m.group(3));
    return new QemuVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), micro);
  }

  @Override
  public int compareTo(QemuVersion o) {
    int c = Integer.compare(major, o.major);
    if (c == 0) c = Integer.compare(minor, o.minor);
    if (c == 0) c = Integer.compare(micro, o.micro);
    return c;
  }

  @Override
  public String toString() {
    return major + "." + minor + "." + micro;
  }
}
