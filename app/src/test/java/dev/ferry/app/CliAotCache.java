package dev.ferry.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An ahead-of-time class cache (JDK 25, JEP 483/514) for the CLI processes the ITs start: every
 * {@code ferry} call is a fresh JVM that loads and links the same few thousand classes (picocli,
 * the HTTPS client, Jackson) before it sends one request, ~1.5 s of CPU under load, and the ITs
 * make hundreds of them, many in poll loops beside TCG guests on 2 cores. With the cache a call
 * costs ~40 % less CPU. It changes only how classes get loaded: the same jar runs the same code,
 * and a cache the JVM cannot use (another jar, another JDK) is ignored with a warning on stderr.
 *
 * <p>Trained once per test JVM, by a read-only call ({@code host list}) against the first cluster a
 * test talked to with success, so it holds the classes of a call that reaches the controller.
 */
final class CliAotCache {

  /** the JVM's own logging to stderr: the default (stdout) would garble the --json output tests parse */
  private static final List<String> QUIET = List.of("-Xlog:disable", "-Xlog:all=warning:stderr");
  /** a training run fails when its cluster's controller is down (a test killed it): a later one may not */
  private static final int ATTEMPTS = 3;
  private static int attempts;
  private static volatile Path cache;

  interface Launcher {
    ProcessBuilder process(List<String> jvmFlags, List<String> args);
  }

  private CliAotCache() {}

  /** The flags that use the cache, or none before it was trained or when it could not be. */
  static List<String> flags() {
    Path c = cache;
    if (c == null) return List.of();
    var flags = new ArrayList<>(QUIET);
    flags.add("-XX:AOTCache=" + c);
    return flags;
  }

  /** Trains the cache with {@code launcher}'s CLI unless it is trained (or failed too often). */
  static synchronized void trainOnce(Launcher launcher) {
    if (cache != null || attempts >= ATTEMPTS) return;
    attempts++;
    if (Runtime.version().feature() < 25) return; // -XX:AOTCacheOutput came with JDK 25
    if ("off".equals(System.getenv("FERRY_IT_AOT"))) return; // to measure what the cache saves
    Path jar = FerryProcess.jar();
    Path out = jar.resolveSibling("ferry-cli.aot");
    try {
      Files.deleteIfExists(out);
      var flags = new ArrayList<>(QUIET);
      flags.add("-XX:AOTCacheOutput=" + out);
      Process p = launcher.process(flags, List.of("host", "list", "--json"))
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(2, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        return;
      }
      if (p.exitValue() == 0 && Files.size(out) > 0) cache = out;
    } catch (IOException e) {
      // no cache: every call still runs, only slower
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
