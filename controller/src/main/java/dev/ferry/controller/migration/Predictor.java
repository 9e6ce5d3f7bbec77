package dev.ferry.controller.migration;

import dev.ferry.api.MigrationPrediction;
import dev.ferry.api.MigrationView;
import dev.ferry.api.agent.DirtyRate;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import dev.ferry.controller.store.MigrationStore;
import dev.ferry.controller.store.Page;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes {@link MigrationPrediction}s: the dirty rate measured on the source QEMU
 * ({@link DirtyRate}, page sampling), the link throughput Ferry last saw between the two hosts,
 * and {@link PredictionModel}.
 *
 * <p>The link: each completed live migration's record keeps QEMU's average throughput at
 * completion ({@code throughput_bytes_per_s}); the highest of the newest {@link #LINK_SAMPLES}
 * succeeded live migrations between the two hosts, either way, that ran without a bandwidth cap
 * gives the link (a capped one only says what the cap let through). Highest, not newest: QEMU's
 * average also counts the time spent scanning zero pages and waiting for the CPU, so a small or
 * idle guest's migration reads far below the link (measured: 65 to 420 MiB/s between the same two
 * loopback hosts). Without one, {@link #DEFAULT_LINK_BYTES_PER_S}, and the prediction says so: a dry
 * run has nothing better before the first byte; a real migration's record waits for its own first
 * pass instead ({@link RunPrediction}, {@link FirstPassRate}).
 */
final class Predictor {

  private static final Logger LOG = LoggerFactory.getLogger(Predictor.class);

  /** 1 Gbit/s, the slowest link a migration network commonly has: a cautious guess until one is measured. */
  static final double DEFAULT_LINK_BYTES_PER_S = 1e9 / 8;
  /** the shortest measurement QEMU 7.2 takes (whole seconds) */
  static final long CALC_TIME_S = 1;
  /** how long past the calc time a dry run waits for QEMU's answer */
  static final Duration MEASURE_GRACE = Duration.ofSeconds(3);
  private static final Duration POLL = Duration.ofMillis(200);
  /** how many of the newest migrations touching the source are searched for the pair */
  private static final int HISTORY = 100;
  /** how many of the pair's newest uncapped migrations the link is the best of */
  static final int LINK_SAMPLES = 5;

  /** Where the link throughput comes from. */
  record Link(double bytesPerS, String source, String note) {}

  private final MigrationContext ctx;

  Predictor(MigrationContext ctx) {
    this.ctx = ctx;
  }

  /** Starts a measurement on the source (returns at once; a running one is left to finish). */
  void startMeasuring(String sourceHost, String vm) {
    ctx.agent(sourceHost).measureDirtyRate(vm, CALC_TIME_S);
  }

  /** The source's last measurement when it is done, else empty; never waits. */
  Optional<DirtyRate> measured(String sourceHost, String vm) {
    DirtyRate d = last(sourceHost, vm);
    return d.measured() ? Optional.of(d) : Optional.empty();
  }

  /** The source's last measurement, done or not. */
  DirtyRate last(String sourceHost, String vm) {
    return ctx.agent(sourceHost).dirtyRate(vm);
  }

  /** Measures now and waits for it: what a dry run does (about {@link #CALC_TIME_S}). */
  DirtyRate measure(String sourceHost, String vm) {
    startMeasuring(sourceHost, vm);
    long deadline = System.nanoTime() + Duration.ofSeconds(CALC_TIME_S).plus(MEASURE_GRACE).toNanos();
    while (true) {
      Optional<DirtyRate> d = measured(sourceHost, vm);
      if (d.isPresent()) return d.get();
      if (System.nanoTime() > deadline) {
        throw new ControllerException(Kind.AGENT_FAILED, "host '" + sourceHost + "' did not finish measuring the dirty"
            + " rate of vm '" + vm + "' within " + (CALC_TIME_S + MEASURE_GRACE.toSeconds()) + " s");
      }
      ctx.sleep(POLL);
    }
  }

  /** The prediction for a migration of a guest of {@code guestBytes} from {@code source} to {@code target}. */
  MigrationPrediction predict(String source, String target, long guestBytes, DirtyRate rate, LiveOptions options) {
    return predict(guestBytes, rate, options, link(source, target));
  }

  /** The same with a given link. */
  MigrationPrediction predict(long guestBytes, DirtyRate rate, LiveOptions options, Link link) {
    double dirty = rate.mibPerS() * (double) (1 << 20);
    PredictionModel.Result r = PredictionModel.predict(new PredictionModel.Inputs(guestBytes, dirty, link.bytesPerS(),
        options));
    return new MigrationPrediction(r.totalMs(), r.downtimeMs(), rate.mibPerS(), rate.calcTimeS(),
        mib(link.bytesPerS()), link.source(), link.note(), mib(r.bandwidthBytesPerS()), options.maxDowntimeMs(),
        guestBytes >> 20, r.converges(), r.passes(), r.outcome(), r.explanation());
  }

  /** The link throughput last seen between the two hosts, or the default. */
  Link link(String source, String target) {
    var filter = new MigrationStore.Filter(null, source, dev.ferry.api.MigrationStatus.SUCCEEDED, null, "live");
    MigrationView best = null;
    int seen = 0;
    for (var row : ctx.store().migrations().page(new Page(null, HISTORY), filter)) {
      if (seen >= LINK_SAMPLES) break;
      boolean pair = row.source().equals(source) && row.target().equals(target)
          || row.source().equals(target) && row.target().equals(source);
      if (!pair) continue;
      MigrationView v;
      try {
        v = MigrationRecord.readStored(row.record());
      } catch (IOException e) {
        LOG.warn("migration {}: unreadable record skipped for the link throughput: {}", row.id(), e.getMessage());
        continue;
      }
      if (v.throughputBytesPerS() == null || v.throughputBytesPerS() <= 0) continue;
      if (v.plan() != null && v.plan().bandwidthMibS() != null) continue;
      seen++;
      if (best == null || v.throughputBytesPerS() > best.throughputBytesPerS()) best = v;
    }
    if (best != null) {
      return new Link(best.throughputBytesPerS(), MigrationPrediction.MEASURED, "what live migration " + best.id()
          + " (" + best.source() + " -> " + best.target() + ", ended " + best.endedAt() + ") achieved, the best of the"
          + " last " + seen + " between the two hosts");
    }
    return new Link(DEFAULT_LINK_BYTES_PER_S, MigrationPrediction.DEFAULT, "no uncapped live migration between '"
        + source + "' and '" + target + "' succeeded yet: the default of 1 Gbit/s");
  }

  private static double mib(double bytes) {
    return Math.round(bytes / (1 << 20) * 10) / 10.0;
  }
}
