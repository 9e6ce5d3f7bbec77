package dev.ferry.agent.ft;

import dev.ferry.agent.JsonFiles;
import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.agent.qemu.QemuUser;
import dev.ferry.api.FtBinaryView;
import dev.ferry.api.FtView;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each QEMU binary's FT capability, from the COLO self-test ({@link ColoSelfTest}), cached per
 * binary hash and accelerator under the agent's {@code cache/ft-probe/}.
 *
 * <p>A probe takes seconds and stock QEMU 7.2 deadlocks in it, so it never runs on the agent's
 * start path: {@link #start()} answers cached findings at once and queues the others on one
 * background thread (two QEMUs at a time are enough on a 2-core host); until a finding exists the
 * binary is {@code probing}. Each probe has a hard timeout on top of the self-test's own budget:
 * the test's thread is interrupted (it kills its QEMUs) and the binary is judged unsupported.
 * A finding the test calls inconclusive (it could not even start) is not cached.
 */
public final class FtProbes implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(FtProbes.class);
  /** the self-test's own budget: ~3 s when COLO works (two QEMUs, 3 checkpoints, a failover) */
  static final Duration BUDGET = Duration.ofSeconds(20);
  static final Duration HARD_TIMEOUT = Duration.ofSeconds(30);

  private final List<Path> binaries;
  private final Path cacheDir;
  private final String accel;
  private final ColoSelfTest test;
  private final Duration budget;
  private final Duration hardTimeout;
  private final InstantSource clock;
  private final ExecutorService queue = Executors.newSingleThreadExecutor(r -> daemon(r, "ferry-ft-probe"));
  private final ExecutorService tests = Executors.newCachedThreadPool(r -> daemon(r, "ferry-ft-selftest"));
  /** binary to its finding, in preference order; guarded by this */
  private final Map<Path, FtBinaryView> findings = new LinkedHashMap<>();

  FtProbes(List<Path> binaries, Path cacheDir, String accel, ColoSelfTest test, Duration budget, Duration hardTimeout,
      InstantSource clock) {
    this.binaries = List.copyOf(binaries);
    this.cacheDir = cacheDir;
    this.accel = accel;
    this.test = test;
    this.budget = budget;
    this.hardTimeout = hardTimeout;
    this.clock = clock;
  }

  /**
   * Probes {@code binaries} (preference order: the one FT should use first) under {@code accel},
   * caching under {@code dataDir/cache/ft-probe}.
   */
  public static FtProbes start(List<Path> binaries, Path dataDir, Accelerator accel, QemuUser user) {
    String accelName = accel.qemuName();
    return new FtProbes(binaries, dataDir.resolve("cache").resolve("ft-probe"), accelName,
        new QemuColoSelfTest(accel, user), BUDGET, HARD_TIMEOUT, InstantSource.system()).start();
  }

  /**
   * Reports {@code binaries} as not probed, running nothing: the test suite sets
   * {@code FERRY_FT_PROBE=off} for its many short-lived agents (each would start two QEMUs).
   */
  public static FtProbes notProbed(List<Path> binaries, String why) {
    var p = new FtProbes(binaries, null, "none", (b, budget) -> ColoOutcome.inconclusive(why), BUDGET, HARD_TIMEOUT,
        InstantSource.system());
    for (Path b : binaries) {
      p.put(b, new FtBinaryView(b.toString(), null, FtBinaryView.UNSUPPORTED, "not probed: " + why, 0, null));
    }
    return p;
  }

  FtProbes start() {
    for (Path binary : binaries) {
      String sha;
      try {
        sha = sha256(binary);
      } catch (IOException e) {
        put(binary, new FtBinaryView(binary.toString(), null, FtBinaryView.UNSUPPORTED,
            "cannot read the binary: " + e.getMessage(), 0, null));
        continue;
      }
      Path file = cacheFile(sha);
      if (Files.isRegularFile(file)) {
        try {
          FtProbeRecord r = JsonFiles.read(file, FtProbeRecord.class);
          put(binary, r.view(binary));
          log.info("ft probe of {} (cached {}): {}", binary, r.probedAt(), r.reason());
          continue;
        } catch (RuntimeException e) {
          log.warn("ignoring unreadable ft probe cache {}: {}", file, e.getMessage());
        }
      }
      put(binary, new FtBinaryView(binary.toString(), sha, FtBinaryView.PROBING, "COLO self-test queued", 0, null));
      queue.execute(() -> probe(binary, sha));
    }
    return this;
  }

  /** One probe, bounded by the hard timeout; records and (when conclusive) caches its finding. */
  void probe(Path binary, String sha) {
    long t0 = System.nanoTime();
    ColoOutcome outcome;
    Future<ColoOutcome> running = tests.submit(() -> test.run(binary, budget));
    try {
      outcome = running.get(hardTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      running.cancel(true);
      outcome = ColoOutcome.failed("the COLO self-test did not finish within " + hardTimeout.toSeconds()
          + " s and was stopped (a QEMU hung in COLO)", 0);
    } catch (ExecutionException e) {
      outcome = ColoOutcome.inconclusive("the COLO self-test failed: " + e.getCause());
    } catch (InterruptedException e) {
      running.cancel(true);
      Thread.currentThread().interrupt();
      return;
    }
    long ms = Duration.ofNanos(System.nanoTime() - t0).toMillis();
    var record = new FtProbeRecord(binary.toString(), sha, accel, outcome.passed(), outcome.reason(),
        outcome.checkpoints(), ms, clock.instant().toString());
    log.info("ft probe of {} under {} in {} ms: {} ({})", binary, accel, ms,
        outcome.passed() ? "supported" : "unsupported", outcome.reason());
    // cached before it is shown: whoever sees the finding may rely on the next start not probing
    if (outcome.conclusive()) {
      try {
        JsonFiles.write(cacheFile(sha), record);
      } catch (RuntimeException e) {
        log.warn("cannot cache the ft probe of {}: {}", binary, e.getMessage());
      }
    }
    put(binary, record.view(binary));
  }

  /** The host's FT capability as heartbeats report it. */
  public synchronized FtView view() {
    List<FtBinaryView> all = new ArrayList<>(findings.values());
    for (FtBinaryView b : all) {
      if (b.state().equals(FtBinaryView.SUPPORTED)) {
        return new FtView(true, b.binary(), "COLO self-test passed: " + b.reason(), all);
      }
    }
    for (FtBinaryView b : all) {
      if (b.state().equals(FtBinaryView.PROBING)) {
        return new FtView(false, b.binary(), "probing " + b.binary() + " (COLO self-test)", all);
      }
    }
    String why = all.stream().map(b -> b.binary() + ": " + b.reason()).collect(Collectors.joining("; "));
    return new FtView(false, all.isEmpty() ? null : all.get(0).binary(),
        all.isEmpty() ? "no QEMU binary" : "no QEMU binary passed the COLO self-test: " + why, all);
  }

  /** Waits until no probe is queued or running (tests, and an agent that needs the answer). */
  public boolean awaitProbes(Duration timeout) throws InterruptedException {
    long until = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < until) {
      synchronized (this) {
        if (findings.values().stream().noneMatch(b -> b.state().equals(FtBinaryView.PROBING))) return true;
      }
      Thread.sleep(20);
    }
    return false;
  }

  private synchronized void put(Path binary, FtBinaryView view) {
    findings.put(binary, view);
  }

  Path cacheFile(String sha) {
    return cacheDir.resolve(sha + "-" + accel + ".json");
  }

  static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** Stops probing; a self-test still running is interrupted and kills its QEMUs. */
  @Override
  public void close() {
    queue.shutdownNow();
    tests.shutdownNow();
  }

  /** The cached finding of one binary (by hash) under one accelerator. */
  record FtProbeRecord(String binary, String sha256, String accelerator, boolean supported, String reason,
      int checkpoints, long probeMillis, String probedAt) {

    FtBinaryView view(Path path) {
      return new FtBinaryView(path.toString(), sha256, supported ? FtBinaryView.SUPPORTED : FtBinaryView.UNSUPPORTED,
          reason, checkpoints, probeMillis);
    }
  }
}
