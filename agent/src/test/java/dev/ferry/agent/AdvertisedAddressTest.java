package dev.ferry.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AdvertisedAddressTest {

  private static InetAddress ip(String s) throws Exception {
    return InetAddress.getByName(s);
  }

  /** Regression: a wildcard listen advertised the canonical host name, 127.0.1.1 on Debian. */
  @Test
  void pick_wildcard_skipsLoopbackAndLinkLocal() throws Exception {
    var candidates = List.of(ip("127.0.1.1"), ip("fe80::1"), ip("10.0.0.7"), ip("fd00::7"));

    assertEquals(Optional.of(ip("10.0.0.7")), AdvertisedAddress.pick(candidates, false));
    assertEquals(Optional.of(ip("fd00::7")), AdvertisedAddress.pick(candidates, true));
    assertEquals(Optional.empty(), AdvertisedAddress.pick(List.of(ip("127.0.0.1"), ip("::1")), false));
  }

  @Test
  void of_specificAddress_isKeptAndBracketedOnlyForUrls() {
    assertEquals("10.1.2.3", AdvertisedAddress.of("10.1.2.3"));
    assertEquals("fd00::1", AdvertisedAddress.of("[fd00::1]"));
    assertEquals("[fd00::1]", AdvertisedAddress.forUrl(AdvertisedAddress.of("fd00::1")));
    assertEquals("127.0.0.1", AdvertisedAddress.forUrl("127.0.0.1"));
  }
}
