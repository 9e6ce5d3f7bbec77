package dev.ferry.agent.pool;

import dev.ferry.agent.AgentException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The directories under which this host's operator allows pools ({@code ferry agent --pool-root},
 * repeatable). A pool is where users may name files for QEMU to open, so without this anyone with
 * the API could make {@code /} or {@code /etc} a pool and attach any host file as a disk.
 *
 * <p>The agent's own state (vm records, run directories with consoles and RAM dumps) is never
 * inside a pool, even when a root covers it: a pool may live under the data directory (the local
 * cluster puts {@code local} there) but may not contain it or lie in its {@code vms} or
 * {@code cache} directories.
 *
 * @param roots absolute, normalized; never {@code /}
 * @param dataDir the agent's state directory
 */
public record PoolRoots(List<Path> roots, Path dataDir) {

  /** Where pools go on a packaged host when the operator says nothing. */
  public static final Path DEFAULT_ROOT = Path.of("/var/lib/ferry");

  public PoolRoots {
    dataDir = dataDir.toAbsolutePath().normalize();
    if (roots.isEmpty()) throw new IllegalArgumentException("at least one pool root is needed");
    roots = roots.stream().map(r -> r.toAbsolutePath().normalize()).distinct().toList();
    for (Path r : roots) {
      if (r.getParent() == null) throw new IllegalArgumentException("pool root " + r + " is the file system root; name a directory below it");
    }
  }

  /** No roots configured: {@code /var/lib/ferry} and the agent's data directory. */
  public static PoolRoots defaults(Path dataDir) {
    return new PoolRoots(List.of(DEFAULT_ROOT, dataDir), dataDir);
  }

  /**
   * The normalized pool directory for {@code path} if it may be a pool, else bad input naming
   * {@code field}. Checked on the path as given (before anything is created) and, once the
   * directory exists, on its real path, so a symlink inside a root cannot lead out of it.
   */
  Path requireAllowed(String field, String path) {
    if (path == null || !path.startsWith("/") || path.indexOf('\0') >= 0) {
      throw AgentException.badInput(field, path, "an absolute directory path under " + describe());
    }
    Path dir = Path.of(path).normalize();
    check(field, path, dir, roots, dataDir);
    return dir;
  }

  /** The second half of {@link #requireAllowed}: the real path of the created directory. */
  void requireAllowedReal(String field, String path, Path dir) {
    Path real;
    try {
      real = dir.toRealPath();
    } catch (IOException e) {
      throw AgentException.badInput(field, path, "a directory the agent can resolve (" + e.getMessage() + ")");
    }
    check(field, path, real, roots.stream().map(PoolRoots::real).toList(), real(dataDir));
  }

  private void check(String field, String path, Path dir, List<Path> allowed, Path data) {
    if (dir.getParent() == null) {
      throw AgentException.badInput(field, path, "a directory under " + describe() + "; the file system root is never a pool");
    }
    if (allowed.stream().noneMatch(dir::startsWith)) {
      throw AgentException.badInput(field, path, "a directory under " + describe()
          + " (the roots this agent allows: ferry agent --pool-root)");
    }
    if (data.startsWith(dir) || dir.startsWith(data.resolve("vms")) || dir.startsWith(data.resolve("cache"))) {
      throw AgentException.badInput(field, path, "a directory that neither holds the agent's data directory " + data
          + " nor lies in its vms/ or cache/ (they hold consoles, sockets and RAM dumps)");
    }
  }

  boolean allows(Path dir) {
    try {
      requireAllowed("path", dir.toString());
      if (Files.exists(dir)) requireAllowedReal("path", dir.toString(), dir);
      return true;
    } catch (AgentException e) {
      return false;
    }
  }

  String describe() {
    return roots.stream().map(Path::toString).collect(Collectors.joining(", ", "[", "]"));
  }

  private static Path real(Path p) {
    try {
      return p.toRealPath();
    } catch (IOException e) {
      return p; // not there yet: nothing under it can exist either
    }
  }
}
