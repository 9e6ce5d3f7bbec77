package dev.ferry.controller.networks;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeasesTest {

  @TempDir Path dir;

  @Test
  void ip_fromDnsmasqLeaseByMac_rereadWhenTheFileChanges_absentOtherwise() throws Exception {
    Path file = dir.resolve("dnsmasq.leases");
    Files.writeString(file, """
        1796474628 52:54:00:13:f9:42 10.79.89.146 * 01:52:54:00:13:f9:42
        duid 00:01:00:01:2c:aa:bb:cc
        1796474699 52:54:00:00:00:07 10.79.89.150 guest 01:52:54:00:00:00:07
        """);
    Leases leases = new Leases(Map.of("default", file));

    assertThat(leases.ip("default", "52:54:00:13:F9:42")).contains("10.79.89.146");
    assertThat(leases.ip("default", "52:54:00:99:99:99")).isEmpty();
    assertThat(leases.ip("lan", "52:54:00:13:f9:42")).as("no DHCP of Ferry's there").isEmpty();

    Files.writeString(file, "1796474700 52:54:00:13:f9:42 10.79.89.147 * *\n");
    Files.setLastModifiedTime(file, FileTime.fromMillis(Files.getLastModifiedTime(file).toMillis() + 2000));
    assertThat(leases.ip("default", "52:54:00:13:f9:42")).contains("10.79.89.147");

    Files.delete(file);
    assertThat(leases.ip("default", "52:54:00:13:f9:42")).isEmpty();
  }
}
