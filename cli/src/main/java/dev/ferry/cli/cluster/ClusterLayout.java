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

  /** The cluster CA: its certificate and key (0600), in a 0700 directory no daemon is given. */
  Path caDir() {
    return dir.resolve("ca");
  }

  /** A component's TLS directory ({@code controller} or a host), passed to it as {@code --tls DIR}. */
  Path tlsDir(String component) {
    return (component.equals("controller") ? controllerData() : hostData(component)).resolve("tls");
  }

  /** The host's own credential (0600), from its enrolment; its agent shows it with every heartbeat. */
  Path credentialFile(String host) {
    return hostData(host).resolve("credential");
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
