package dev.ferry.agent.ft;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;

/**
 * The QEMU binaries an agent probes for FT, in preference order: Ferry's own build first (the one
 * that can pass: {@code --ft-qemu PATH}, else the newest build installed in {@link #INSTALLED},
 * else the newest of {@code ft-qemu/build-qemu.sh} in {@code ~/.cache/ferry/qemu/}), then the
 * system's QEMU, which VMs run on today.
 */
public final class FtBinaries {

  static final String BINARY = "bin/qemu-system-x86_64";
  /**
   * Where scripts/install-ft-qemu.sh puts builds so that a root agent's QEMU user can run them
   * (the build cache lies under a 0700 home).
   */
  public static final Path INSTALLED = Path.of("/usr/local/lib/ferry/qemu");

  private FtBinaries() {}

  /**
   * @param system   the system QEMU the agent runs VMs with
   * @param ftQemu   {@code --ft-qemu}, or null to look in {@link #INSTALLED}, then {@code buildCache}
   * @param buildCache where build-qemu.sh installs ({@code <key>/bin/qemu-system-x86_64}); may be absent
   */
  public static List<Path> candidates(Path system, Path ftQemu, Path buildCache) {
    return candidates(system, ftQemu, INSTALLED, buildCache);
  }

  /** As above with the installed builds' directory given. */
  static List<Path> candidates(Path system, Path ftQemu, Path installed, Path buildCache) {
    var out = new LinkedHashSet<Path>();
    if (ftQemu != null) out.add(ftQemu.toAbsolutePath().normalize());
    else newestBuild(installed).or(() -> newestBuild(buildCache)).ifPresent(out::add);
    out.add(system.toAbsolutePath().normalize());
    return new ArrayList<>(out);
  }

  /** {@code ${XDG_CACHE_HOME:-$HOME/.cache}/ferry/qemu}, as build-qemu.sh computes it. */
  public static Path defaultBuildCache() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("ferry").resolve("qemu");
  }

  /** The finished build (its manifest exists: the directory appeared by an atomic rename) newest by manifest time. */
  static Optional<Path> newestBuild(Path buildCache) {
    if (buildCache == null || !Files.isDirectory(buildCache)) return Optional.empty();
    try (var dirs = Files.list(buildCache)) {
      return dirs.filter(d -> !d.getFileName().toString().startsWith("."))
          .filter(d -> Files.isRegularFile(d.resolve("manifest.txt")) && Files.isExecutable(d.resolve(BINARY)))
          .max(Comparator.comparing(d -> modified(d.resolve("manifest.txt"))))
          .map(d -> d.resolve(BINARY));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static long modified(Path p) {
    try {
      return Files.getLastModifiedTime(p).toMillis();
    } catch (IOException e) {
      return 0;
    }
  }
}
