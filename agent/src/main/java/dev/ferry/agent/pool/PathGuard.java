package dev.ferry.agent.pool;

import dev.ferry.agent.AgentException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.stream.Collectors;

/**
 * The one check every path a user names goes through (kernel, initrd, disk images): it must be
 * an existing file whose real path, after every symlink and {@code ..} is resolved, lies inside
 * the real path of one of the host's pools. Comparing real paths is what stops
 * {@code /pool/../etc/shadow} and a link in a pool that points out of it.
 */
final class PathGuard {

  private PathGuard() {}

  /**
   * Returns the real path of {@code userPath}, or throws bad input naming {@code field} (as in
   * the request, e.g. {@code disks[0].path}), the value and the pools allowed.
   */
  static Path require(String field, String userPath, Collection<Pool> pools) {
    if (userPath == null || userPath.isBlank() || !userPath.startsWith("/")) {
      throw AgentException.badInput(field, userPath, "an absolute path inside one of the pools " + describe(pools));
    }
    Path real;
    try {
      real = Path.of(userPath).toRealPath();
    } catch (NoSuchFileException e) {
      throw AgentException.badInput(field, userPath, "an existing file inside one of the pools " + describe(pools));
    } catch (IOException | java.nio.file.InvalidPathException e) {
      throw AgentException.badInput(field, userPath, "a readable file inside one of the pools " + describe(pools)
          + " (" + e.getMessage() + ")");
    }
    for (Pool pool : pools) {
      Path root;
      try {
        root = pool.path().toRealPath();
      } catch (IOException e) {
        continue; // a pool whose directory vanished holds nothing
      }
      if (real.startsWith(root) && !real.equals(root)) {
        if (!Files.isRegularFile(real)) {
          throw AgentException.badInput(field, userPath, "a regular file, not a directory or device");
        }
        return real;
      }
    }
    throw AgentException.badInput(field, userPath, "a path inside one of the pools " + describe(pools));
  }

  static String describe(Collection<Pool> pools) {
    if (pools.isEmpty()) return "(this host has no pools)";
    return pools.stream().map(p -> p.name() + " (" + p.path() + ")").collect(Collectors.joining(", ", "[", "]"));
  }
}
