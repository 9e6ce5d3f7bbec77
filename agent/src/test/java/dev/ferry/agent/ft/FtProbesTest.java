package dev.ferry.agent.ft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.FtBinaryView;
import dev.ferry.api.FtView;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The probe's decision, cache and hard timeout, with a scripted self-test instead of QEMU. */
class FtProbesTest {

  @TempDir
  Path dir;

  private static final InstantSource CLOCK = InstantSource.fixed(Instant.parse("2026-12-05T12:00:00Z"));

  /** A self-test that answers from a script per binary and counts its runs. */
  static final class Scripted implements ColoSelfTest {
    final ConcurrentLinkedQueue<Path> runs = new ConcurrentLinkedQueue<>();
    final java.util.Map<Path, ColoOutcome> answers = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public ColoOutcome run(Path binary, Duration budget) {
      runs.add(binary);
      return answers.getOrDefault(binary, ColoOutcome.failed("no answer scripted", 0));
    }
  }

  private Path binary(String name, String content) throws Exception {
    Path p = dir.resolve(name);
    Files.writeString(p, content);
    return p;
  }

  private FtProbes probes(List<Path> binaries, ColoSelfTest test, Duration hardTimeout) {
    return new FtProbes(binaries, dir.resolve("cache"), "tcg", test, Duration.ofSeconds(1), hardTimeout, CLOCK);
  }

  @Test
  void view_patchedPassesStockDeadlocks_supportedWithThePatchedBinaryAndBothFindings() throws Exception {
    Path patched = binary("patched", "ferry build");
    Path stock = binary("stock", "debian build");
    var test = new Scripted();
    test.answers.put(patched, ColoOutcome.passed("3 COLO checkpoints", 3));
    test.answers.put(stock, ColoOutcome.failed("the COLO primary stopped answering QMP after 1 checkpoint(s)", 1));

    try (FtProbes p = probes(List.of(patched, stock), test, Duration.ofSeconds(5)).start()) {
      assertThat(p.awaitProbes(Duration.ofSeconds(5))).isTrue();
      FtView v = p.view();

      assertThat(v.supported()).isTrue();
      assertThat(v.binary()).isEqualTo(patched.toString());
      assertThat(v.binaries()).extracting(FtBinaryView::binary, FtBinaryView::state, FtBinaryView::checkpoints)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(patched.toString(), FtBinaryView.SUPPORTED, 3),
              org.assertj.core.groups.Tuple.tuple(stock.toString(), FtBinaryView.UNSUPPORTED, 1));
      assertThat(v.binaries().get(1).reason()).contains("stopped answering QMP");
    }
  }

  @Test
  void view_onlyStockDeadlocks_unsupportedNamingTheBinaryAndWhy() throws Exception {
    Path stock = binary("stock", "debian build");
    var test = new Scripted();
    test.answers.put(stock, ColoOutcome.failed("the COLO primary stopped answering QMP after 1 checkpoint(s)", 1));

    try (FtProbes p = probes(List.of(stock), test, Duration.ofSeconds(5)).start()) {
      p.awaitProbes(Duration.ofSeconds(5));
      FtView v = p.view();

      assertThat(v.supported()).isFalse();
      assertThat(v.binary()).isEqualTo(stock.toString());
      assertThat(v.reason()).contains(stock.toString()).contains("stopped answering QMP");
    }
  }

  @Test
  void start_probeStillRunning_returnsAtOnceAndReportsProbing() throws Exception {
    Path b = binary("slow", "x");
    var release = new CountDownLatch(1);
    ColoSelfTest slow = (binary, budget) -> {
      release.await();
      return ColoOutcome.passed("ok", 3);
    };
    long t0 = System.nanoTime();
    try (FtProbes p = probes(List.of(b), slow, Duration.ofSeconds(10)).start()) {
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
      FtView v = p.view();
      assertThat(v.supported()).isFalse();
      assertThat(v.reason()).startsWith("probing");
      assertThat(v.binaries()).extracting(FtBinaryView::state).containsExactly(FtBinaryView.PROBING);

      release.countDown();
      assertThat(p.awaitProbes(Duration.ofSeconds(5))).isTrue();
      assertThat(p.view().supported()).isTrue();
    }
  }

  @Test
  void probe_selfTestHangs_hardTimeoutJudgesUnsupportedAndInterruptsIt() throws Exception {
    Path b = binary("hangs", "x");
    var interrupted = new AtomicBoolean();
    var ended = new CountDownLatch(1);
    ColoSelfTest hangs = (binary, budget) -> {
      try {
        Thread.sleep(Long.MAX_VALUE);
        return ColoOutcome.passed("never", 0);
      } catch (InterruptedException e) {
        interrupted.set(true);
        throw e;
      } finally {
        ended.countDown();
      }
    };
    try (FtProbes p = probes(List.of(b), hangs, Duration.ofMillis(300)).start()) {
      assertThat(p.awaitProbes(Duration.ofSeconds(5))).isTrue();
      FtBinaryView f = p.view().binaries().get(0);

      assertThat(f.state()).isEqualTo(FtBinaryView.UNSUPPORTED);
      assertThat(f.reason()).contains("did not finish within");
      assertThat(ended.await(5, TimeUnit.SECONDS)).isTrue();
      assertThat(interrupted).isTrue();
    }
  }

  @Test
  void start_sameBinaryAgain_answersFromTheCacheWithoutATest() throws Exception {
    Path b = binary("patched", "ferry build");
    var first = new Scripted();
    first.answers.put(b, ColoOutcome.passed("3 COLO checkpoints", 3));
    try (FtProbes p = probes(List.of(b), first, Duration.ofSeconds(5)).start()) {
      p.awaitProbes(Duration.ofSeconds(5));
    }

    var second = new Scripted();
    try (FtProbes p = probes(List.of(b), second, Duration.ofSeconds(5)).start()) {
      FtView v = p.view();

      assertThat(second.runs).isEmpty();
      assertThat(v.supported()).isTrue();
      assertThat(v.binaries().get(0).reason()).isEqualTo("3 COLO checkpoints");
      assertThat(v.binaries().get(0).sha256()).isEqualTo(FtProbes.sha256(b));
    }
  }

  @Test
  void start_binaryReplacedAtTheSamePath_probesItAgain() throws Exception {
    Path b = binary("qemu", "debian build");
    var first = new Scripted();
    first.answers.put(b, ColoOutcome.failed("deadlock", 1));
    try (FtProbes p = probes(List.of(b), first, Duration.ofSeconds(5)).start()) {
      p.awaitProbes(Duration.ofSeconds(5));
    }
    Files.writeString(b, "debian security update");

    var second = new Scripted();
    second.answers.put(b, ColoOutcome.passed("fixed", 3));
    try (FtProbes p = probes(List.of(b), second, Duration.ofSeconds(5)).start()) {
      p.awaitProbes(Duration.ofSeconds(5));

      assertThat(second.runs).containsExactly(b);
      assertThat(p.view().supported()).isTrue();
    }
  }

  @Test
  void start_otherAccelerator_probesAgain() throws Exception {
    Path b = binary("qemu", "build");
    var tcg = new Scripted();
    tcg.answers.put(b, ColoOutcome.failed("deadlock", 1));
    try (FtProbes p = probes(List.of(b), tcg, Duration.ofSeconds(5)).start()) {
      p.awaitProbes(Duration.ofSeconds(5));
    }

    var kvm = new Scripted();
    try (FtProbes p = new FtProbes(List.of(b), dir.resolve("cache"), "kvm", kvm, Duration.ofSeconds(1),
        Duration.ofSeconds(5), CLOCK).start()) {
      p.awaitProbes(Duration.ofSeconds(5));
      assertThat(kvm.runs).containsExactly(b);
    }
  }

  @Test
  void probe_inconclusive_isNotCached() throws Exception {
    Path b = binary("qemu", "build");
    var first = new Scripted();
    first.answers.put(b, ColoOutcome.inconclusive("cannot prepare the COLO self-test: no space"));
    try (FtProbes p = probes(List.of(b), first, Duration.ofSeconds(5)).start()) {
      p.awaitProbes(Duration.ofSeconds(5));
      assertThat(p.view().supported()).isFalse();
      assertThat(p.view().reason()).contains("no space");
    }

    var second = new Scripted();
    second.answers.put(b, ColoOutcome.passed("ok", 3));
    try (FtProbes p = probes(List.of(b), second, Duration.ofSeconds(5)).start()) {
      p.awaitProbes(Duration.ofSeconds(5));
      assertThat(second.runs).containsExactly(b);
    }
  }

  @Test
  void start_unreadableBinary_unsupportedWithoutATest() throws Exception {
    var test = new Scripted();
    Path missing = dir.resolve("gone");
    try (FtProbes p = probes(List.of(missing), test, Duration.ofSeconds(5)).start()) {
      FtView v = p.view();
      assertThat(test.runs).isEmpty();
      assertThat(v.supported()).isFalse();
      assertThat(v.binaries().get(0).reason()).startsWith("cannot read the binary");
    }
  }

  @Test
  void notProbed_runsNothingAndSaysWhy() throws Exception {
    Path b = binary("qemu", "build");
    try (FtProbes p = FtProbes.notProbed(List.of(b), "FERRY_FT_PROBE=off")) {
      FtView v = p.view();
      assertThat(v.supported()).isFalse();
      assertThat(v.binaries()).extracting(FtBinaryView::state).containsExactly(FtBinaryView.UNSUPPORTED);
      assertThat(v.reason()).contains("not probed: FERRY_FT_PROBE=off");
      assertThat(dir.resolve("cache")).doesNotExist();
    }
  }
}
