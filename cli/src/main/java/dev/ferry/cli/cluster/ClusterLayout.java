package dev.ferry.cli.cluster;

import java.nio.file.Path;

/** Where everything of a local cluster lives under its directory; one place so up, down and status agree. */
record ClusterLayout(Path dir) {

  static final String SHARED_POOL = "shared";
  static final String LOCAL_POOL = "local";

  ClusterLayout {
    dir = dir.toAbsolutePath().normalize();
  }

  Path controllerData() {
    return dir.resolve("controller");
  }

  Path tokenFile() {
    return controllerData().resolve("token");
  }

  Path hostData(String host) {
    return dir.resolve("hosts").resolve(host);
  }

  Path log(String component) {
    return dir.resolve("logs").resolve(component + ".log");
  }

  Path sharedPool() {
    return dir.resolve("pools").resolve(SHARED_POOL);
  }

  Path localPool(String host) {
    return hostData(host).resolve(LOCAL_POOL);
  }

  static String hostName(int i) {
    return "host" + i;
  }
}
