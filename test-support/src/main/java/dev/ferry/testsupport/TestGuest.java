package dev.ferry.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The self-checking test guest (guest/README.md): a Debian cloud kernel and a busybox initramfs
 * with Ferry's workload program. {@code ./ferry test} builds it once and passes its directory in
 * {@code FERRY_GUEST_DIR}; run from an IDE, the build script is called here (a cached build
 * returns at once).
 */
public record TestGuest(Path kernel, Path initrd) {

  private static TestGuest cached;

  public static synchronized TestGuest get() {
    if (cached == null) cached = locate();
    return cached;
  }

  private static TestGuest locate() {
    String dir = System.getenv("FERRY_GUEST_DIR");
    if (dir == null || dir.isBlank()) dir = System.getProperty("ferry.guest.dir");
    if (dir == null || dir.isBlank()) dir = build();
    Path d = Path.of(dir);
    TestGuest g = new TestGuest(d.resolve("vmlinuz"), d.resolve("initrd.img"));
    if (!Files.isRegularFile(g.kernel()) || !Files.isRegularFile(g.initrd())) {
      throw new IllegalStateException("test guest directory " + d + " has no vmlinuz and initrd.img");
    }
    return g;
  }

  /** The repository root: from the build (ferry.repo.root) or by walking up to guest/build-guest.sh. */
  public static Path repoRoot() {
    String prop = System.getProperty("ferry.repo.root");
    if (prop != null && Files.exists(Path.of(prop, "guest", "build-guest.sh"))) return Path.of(prop);
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.exists(p.resolve("guest/build-guest.sh"))) return p;
    }
    throw new IllegalStateException("cannot find the repository root (guest/build-guest.sh) above " + Path.of("").toAbsolutePath());
  }

  private static String build() {
    Path script = repoRoot().resolve("guest/build-guest.sh");
    try {
      Process p = new ProcessBuilder("bash", script.toString())
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(20, TimeUnit.MINUTES) || p.exitValue() != 0) {
        throw new IllegalStateException(script + " failed; see its output above");
      }
      return out.strip().lines().reduce((a, b) -> b).orElseThrow();
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + script + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted building the test guest", e);
    }
  }

  /** A kernel command line running the given workloads, e.g. {@code "ferry.mem=32:10"}. */
  public static String append(String workloads) {
    return ("console=ttyS0 panic=-1 quiet " + workloads).strip();
  }
}
