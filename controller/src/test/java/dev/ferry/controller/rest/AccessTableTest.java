package dev.ferry.controller.rest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.auth.Role;
import dev.ferry.controller.Controller;
import dev.ferry.controller.ControllerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The access table against the routes a running controller registered: none forgotten, none stale. */
class AccessTableTest {

  @TempDir Path dir;

  @Test
  void everyRegisteredRoute_hasAnAccessEntry_andEveryEntryIsARoute() {
    try (Controller c = Controller.start(ControllerConfig.loopback(dir, Duration.ofSeconds(10)))) {
      List<String> routes = c.routes();
      assertThat(routes).hasSizeGreaterThan(20);
      for (String route : routes) {
        String[] mp = route.split(" ", 2);
        assertThat(Access.rule(mp[0], mp[1])).as("access rule of " + route).isNotNull();
      }
      assertThat(Access.keys()).as("entries without a route").containsExactlyInAnyOrderElementsOf(routes);
    }
  }

  @Test
  void everyMutatingUserRoute_needsMoreThanViewer_andTokensHostsPoolsNeedAdmin() {
    for (String key : Access.keys()) {
      String[] mp = key.split(" ", 2);
      if (!(Access.rule(mp[0], mp[1]) instanceof Access.UserRule u)) continue;
      if (!mp[0].equals("GET")) assertThat(u.least()).as(key).isNotEqualTo(Role.VIEWER);
      if (mp[1].startsWith("/api/tokens") || mp[1].startsWith("/api/pools") && !mp[0].equals("GET")
          || mp[1].startsWith("/api/hosts/") || mp[1].startsWith("/api/audit")) {
        assertThat(u.least()).as(key).isEqualTo(Role.ADMIN);
      }
    }
  }
}
