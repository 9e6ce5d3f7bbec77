package dev.ferry.agent.ftpair;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Whether a COLO secondary's incoming migration connection is still established, read from the
 * kernel's socket table ({@code /proc/net/tcp}, {@code tcp6}) rather than from QEMU. When the
 * primary's QEMU dies its kernel closes its end, and the secondary's end leaves ESTABLISHED at
 * once; a primary host that is cut off or lost its power leaves it ESTABLISHED (no FIN comes), so
 * only the heartbeat tells that case.
 */
final class ColoStream {

  private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));
  /** the kernel's TCP_ESTABLISHED, as the table writes it */
  private static final String ESTABLISHED = "01";

  private ColoStream() {}

  /** True when a socket with local port {@code port} is established. */
  static boolean established(int port) {
    String hexPort = String.format(":%04X", port);
    for (Path table : TABLES) {
      List<String> lines;
      try {
        lines = Files.readAllLines(table);
      } catch (IOException e) {
        continue;
      }
      for (String line : lines) {
        String[] f = line.trim().split("\\s+");
        // sl local_address rem_address st ...
        if (f.length > 3 && f[1].endsWith(hexPort) && f[3].equals(ESTABLISHED)) return true;
      }
    }
    return false;
  }
}
