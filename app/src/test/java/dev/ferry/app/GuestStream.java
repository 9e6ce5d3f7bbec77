package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testsupport.GuestConsole;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The guest's network side as the FT tests watch it: its DHCP address, and a client's lines. */
final class GuestStream {

  private static final Pattern NET = Pattern.compile("FERRY NET iface=eth0 ip=(\\S+) mac=(\\S+)");

  private GuestStream() {}

  /** The address the guest's DHCP client printed on its console. */
  static String awaitAddress(GuestConsole console, Duration timeout) throws InterruptedException {
    long until = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < until) {
      for (String l : console.rawLines()) {
        Matcher m = NET.matcher(l.strip());
        if (m.matches()) return m.group(1);
      }
      Thread.sleep(200);
    }
    throw new AssertionError("no DHCP address in the guest within " + timeout + "; console:\n" + console.tail(30));
  }

  /** {@code count} lines received in all, within 30 s, and no problem with any of them. */
  static void awaitLines(StreamClient client, long count) throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (client.received() < count && client.problems().isEmpty() && System.nanoTime() < until) Thread.sleep(20);
    assertThat(client.problems()).isEmpty();
    assertThat(client.received()).as("lines from the guest").isGreaterThanOrEqualTo(count);
  }
}
