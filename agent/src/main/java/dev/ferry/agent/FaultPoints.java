package dev.ferry.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Named places in the agent where a fault test can hold the agent still, so that it can kill a
 * process, cut a link or restart the controller at exactly that step. Off unless the agent was
 * started with {@code FERRY_FAULT_PAUSE_AT} (comma-separated point names) and
 * {@code FERRY_FAULT_DIR}: reaching a listed point writes {@code DIR/NAME.reached} (its content
 * the VM's name) and blocks until {@code DIR/NAME.release} exists. A test that runs the agent in
 * its own JVM sets the system property {@code ferry.fault.dir} instead and arms one point at a
 * time by creating {@code DIR/NAME.arm}, so the other tests of that JVM pass the point freely. A
 * real host sets neither, and the lookup costs a field and a property read then.
 *
 * <p>Point names are {@code area.step}, e.g. {@code storage.before-pivot},
 * {@code outgoing.before-complete}; each call site names its point in a constant beside it.
 */
public final class FaultPoints {

  private static final Logger LOG = LoggerFactory.getLogger(FaultPoints.class);
  private static final Set<String> PAUSE_AT = parse(System.getenv("FERRY_FAULT_PAUSE_AT"));
  private static final Path DIR = dir(System.getenv("FERRY_FAULT_DIR"));

  private FaultPoints() {}

  /** Holds the calling thread at {@code point} while a test asks for it; returns at once otherwise. */
  public static void reach(String point, String vm) {
    Path dir = DIR != null ? DIR : dir(System.getProperty("ferry.fault.dir"));
    if (dir == null || !(PAUSE_AT.contains(point) || Files.exists(dir.resolve(point + ".arm")))) return;
    Path reached = dir.resolve(point + ".reached");
    Path release = dir.resolve(point + ".release");
    try {
      Files.writeString(reached, vm == null ? "" : vm);
      LOG.warn("fault point {} reached for vm {}: holding until {} exists", point, vm, release);
      while (!Files.exists(release)) Thread.sleep(50);
      LOG.warn("fault point {} released", point);
    } catch (IOException e) {
      LOG.warn("fault point {}: cannot signal ({}), going on", point, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Whether a test armed {@code point} as a switch rather than a hold (e.g. "corrupt the copy"):
   * the same {@code FERRY_FAULT_PAUSE_AT} or {@code DIR/NAME.arm} as {@link #reach}.
   */
  public static boolean armed(String point) {
    Path dir = DIR != null ? DIR : dir(System.getProperty("ferry.fault.dir"));
    return dir != null && (PAUSE_AT.contains(point) || Files.exists(dir.resolve(point + ".arm")));
  }

  private static Set<String> parse(String names) {
    if (names == null || names.isBlank()) return Set.of();
    return Set.of(names.strip().split("\\s*,\\s*"));
  }

  private static Path dir(String path) {
    return path == null || path.isBlank() ? null : Path.of(path);
  }
}
