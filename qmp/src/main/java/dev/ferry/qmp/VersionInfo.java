package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.qapi.Members;
import java.util.Objects;

/**
 * QAPI {@code VersionInfo}: the QEMU version, as sent in the greeting and returned by
 * {@code query-version}.
 *
 * @param major the {@code qemu.major} member
 * @param minor the {@code qemu.minor} member
 * @param micro the {@code qemu.micro} member
 * @param packageName the {@code package} member (a Java keyword, hence the name), e.g.
 *     {@code "Debian 1:7.2+dfsg-7+deb12u18"}; empty for an upstream build
 */
public record VersionInfo(int major, int minor, int micro, String packageName) {

  public VersionInfo {
    if (major < 0 || minor < 0 || micro < 0) {
      throw new IllegalArgumentException(
          "negative version %d.%d.%d".formatted(major, minor, micro));
    }
    Objects.requireNonNull(packageName, "packageName");
  }

  static VersionInfo parse(JsonNode version) {
    JsonNode qemu = Members.object(version, "qemu");
    return new VersionInfo(Members.integer(qemu, "major"), Members.integer(qemu, "minor"),
        Members.integer(qemu, "micro"), Members.text(version, "package"));
  }
}
