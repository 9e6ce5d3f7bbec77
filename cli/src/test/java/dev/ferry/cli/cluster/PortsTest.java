package dev.ferry.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Daemon ports stay out of the range the kernel hands to outgoing connections. */
class PortsTest {

  @TempDir Path dir;

  @Test
  void free_distinctPortsBelowTheEphemeralRange() {
    int low = Ports.ephemeralLow(Ports.EPHEMERAL);
    List<Integer> ports = Ports.free(8);

    assertThat(low).as("the kernel's range as read from " + Ports.EPHEMERAL).isGreaterThan(Ports.LOWEST);
    assertThat(new HashSet<>(ports)).hasSize(8);
    assertThat(ports).allSatisfy(p -> assertThat(p).isBetween(Ports.LOWEST, low - 1));
  }

  @Test
  void ephemeralLow_readsTheFirstNumber_unreadableIsZero() throws Exception {
    assertThat(Ports.ephemeralLow(Files.writeString(dir.resolve("range"), "32768\t60999\n"))).isEqualTo(32768);
    assertThat(Ports.ephemeralLow(dir.resolve("absent"))).isZero();
    assertThat(Ports.ephemeralLow(Files.writeString(dir.resolve("bad"), "x y"))).isZero();
  }
}
