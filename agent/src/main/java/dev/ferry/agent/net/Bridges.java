package dev.ferry.agent.net;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The Linux bridges of this host, read from sysfs (a bridge has {@code /sys/class/net/NAME/bridge}):
 * what the heartbeat reports, so the controller sends a VM only where its networks are.
 */
public final class Bridges {

  static final Path SYS_NET = Path.of("/sys/class/net");

  private Bridges() {}

  public static List<String> list() {
    return list(SYS_NET);
  }

  static List<String> list(Path sysNet) {
    try (Stream<Path> links = Files.list(sysNet)) {
      return links.filter(p -> Files.isDirectory(p.resolve("bridge"))).map(p -> p.getFileName().toString()).sorted()
          .toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  public static boolean exists(String bridge) {
    return Files.isDirectory(SYS_NET.resolve(bridge).resolve("bridge"));
  }
}
