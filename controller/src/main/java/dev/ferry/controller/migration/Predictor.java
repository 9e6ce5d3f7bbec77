package dev.ferry.controller.migration;

import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.MigrationPrediction;
import dev.ferry.api.MigrationView;
import dev.ferry.api.agent.DirtyRate;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import dev.ferry.controller.store.MigrationStore;
import dev.ferry.controller.store.Page;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes {@link MigrationPrediction}s: the dirty rate measured on the source QEMU
 * ({@link DirtyRate}, page sampling), the link throughput Ferry last saw between the two hosts,
 * and {@link PredictionModel}.
 *
 * <p>The link: each completed live migration's record keeps the guest RAM it went through per
 * second ({@code ram_rate_bytes_per_s}: zero pages and pages sent, each pass's, over QEMU's total
 * time); the median of the newest {@link #LINK_SAMPLES} succeeded live migrations between the two
 * hosts, either way, that ran without a bandwidth cap gives the link (a capped one only says what
 * the cap let through). RAM, not bytes sent, as {@link FirstPassRate} measures it: QEMU's average
 * throughput ({@code throughput_bytes_per_s}) counts only the bytes sent over a time that the zero
 * pages' scan fills too, so a mostly empty guest read low and the next dense one was predicted
 * two to four times too long (the live bench: idle guests at 117 MiB/s sent, 320 MiB/s of RAM;
 * mem-64 predicted +200 to +285 %). Without one, {@link #DEFAULT_LINK_BYTES_PER_S}, and the prediction says so: a dry
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
  /** how many of the pair's newest uncapped migrations the link is the median of */
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

  /**
   * Whether a migration that did not ask for post-copy gets it as its last rung ({@code auto}):
   * only where the target can run it ({@code targetReady}: its agent reported a userfaultfd for
   * QEMU) and {@code rate}, a measurement of the guest, makes Ferry's own policy stall in
   * pre-copy. Armed post-copy is not free: QEMU then opens the return path and its switchover waits
   * for the target to load (the live bench, every convergent workload: QEMU's downtime 20-55 ms
   * armed against 4-10 ms, the source's stop to the target's resume up to 30 ms longer), so a guest
   * that converges keeps it off, and the one that cannot converge finishes instead of being
   * cancelled. Without a measurement it stays off, as before.
   */
  boolean armsPostcopy(LiveMigrationRequest r, boolean targetReady, String source, String target, long guestBytes,
      DirtyRate rate) {
    if (r.postcopy() != null || r.multifd() != null || !targetReady || rate == null || !rate.measured()) return false;
    return predict(source, target, guestBytes, rate, LiveOptions.validate(r, true)).outcome().equals("post-copy");
  }

  /** The source's measurement of the VM if at most {@link RunPrediction#REUSE} old, else null; never measures. */
  DirtyRate recent(String sourceHost, String vm) {
    try {
      DirtyRate d = last(sourceHost, vm);
      return d.measured() && d.ageMs() != null && d.ageMs() <= RunPrediction.REUSE.toMillis() ? d : null;
    } catch (ControllerException e) {
      return null;
    }
  }

  /** The prediction for a migration of a guest of {@code guestBytes} from {@code source} to {@code target}. */
  MigrationPrediction predict(String source, String target, long guestBytes, DirtyRate rate, LiveOptions options) {
    List<MigrationView> pair = pairHistory(source, target);
    return predict(guestBytes, rate, options, link(pair, source, target), PauseShare.of(pair));
  }

  /** The same with a given link, and the pair's pause share when known (else null). */
  MigrationPrediction predict(long guestBytes, DirtyRate rate, LiveOptions options, Link link, PauseShare share) {
    double dirty = rate.mibPerS() * (double) (1 << 20);
    long resident = rate.residentBytes() == null ? guestBytes : Math.min(guestBytes, rate.residentBytes());
    PredictionModel.Result r = PredictionModel.predict(new PredictionModel.Inputs(guestBytes, resident, dirty,
        link.bytesPerS(), options));
    Long downtime = r.downtimeMs();
    String explanation = r.explanation();
    if (downtime != null && share != null && r.limitMs() > 0) {
      downtime = Math.round(share.share() * r.limitMs());
      explanation += "; the pause " + downtime + " ms, " + share.percent() + " of that limit as " + share.what();
    }
    long total = r.totalMs() - (r.downtimeMs() == null ? 0 : r.downtimeMs()) + (downtime == null ? 0 : downtime);
    return new MigrationPrediction(total, downtime, rate.mibPerS(), rate.calcTimeS(),
        mib(link.bytesPerS()), link.source(), link.note(), mib(r.bandwidthBytesPerS()), options.maxDowntimeMs(),
        guestBytes >> 20, r.converges(), r.passes(), r.outcome(), explanation,
        rate.residentBytes() == null ? null : rate.residentBytes() >> 20);
  }

  /** The link throughput last seen between the two hosts, or the default. */
  Link link(String source, String target) {
    return link(pairHistory(source, target), source, target);
  }

  /** The pair's pause share, or null: see {@link PauseShare}. */
  PauseShare pauseShare(String source, String target) {
    return PauseShare.of(pairHistory(source, target));
  }

  /** The succeeded live migrations between the two hosts, either way, newest first. */
  private List<MigrationView> pairHistory(String source, String target) {
    var filter = new MigrationStore.Filter(null, source, dev.ferry.api.MigrationStatus.SUCCEEDED, null, "live");
    var pair = new ArrayList<MigrationView>();
    for (var row : ctx.store().migrations().page(new Page(null, HISTORY), filter)) {
      boolean ours = row.source().equals(source) && row.target().equals(target)
          || row.source().equals(target) && row.target().equals(source);
      if (!ours) continue;
      try {
        pair.add(MigrationRecord.readStored(row.record()));
      } catch (IOException e) {
        LOG.warn("migration {}: unreadable record skipped for the prediction: {}", row.id(), e.getMessage());
      }
    }
    return pair;
  }

  private static Link link(List<MigrationView> pair, String source, String target) {
    var rates = new ArrayList<MigrationView>();
    for (MigrationView v : pair) {
      if (rates.size() >= LINK_SAMPLES) break;
      // records before the RAM rate say only what was sent: not the same measure
      if (v.ramRateBytesPerS() == null || v.ramRateBytesPerS() <= 0) continue;
      if (v.plan() != null && v.plan().bandwidthMibS() != null) continue;
      rates.add(v);
    }
    if (!rates.isEmpty()) {
      MigrationView newest = rates.getFirst();
      rates.sort(java.util.Comparator.comparingDouble(MigrationView::ramRateBytesPerS));
      MigrationView mid = rates.get(rates.size() / 2);
      double bytesPerS = rates.size() % 2 == 1 ? mid.ramRateBytesPerS()
          : (mid.ramRateBytesPerS() + rates.get(rates.size() / 2 - 1).ramRateBytesPerS()) / 2;
      return new Link(bytesPerS, MigrationPrediction.MEASURED, "the median guest RAM per second of the last "
          + rates.size() + " uncapped live migrations between the two hosts (the newest, " + newest.id() + ", "
          + mib(newest.ramRateBytesPerS()) + " MiB/s)");
    }
    return new Link(DEFAULT_LINK_BYTES_PER_S, MigrationPrediction.DEFAULT, "no uncapped live migration between '"
        + source + "' and '" + target + "' that recorded its RAM rate succeeded yet: the default of 1 Gbit/s");
  }

  private static double mib(double bytes) {
    return Math.round(bytes / (1 << 20) * 10) / 10.0;
  }
}
