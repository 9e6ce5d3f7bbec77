package dev.ferry.controller.migration;

import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.MigrationPlan;
import dev.ferry.api.agent.CopyStorageDisk;
import dev.ferry.api.rules.MigrationRules;
import dev.ferry.api.rules.RuleViolation;
import dev.ferry.api.rules.Spelling;
import dev.ferry.controller.ControllerException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A live migration request that passed every input check, with its defaults applied, and its
 * mapping to QEMU's migration capabilities and parameters on either host (qemu-notes: the target
 * gets the same capabilities before {@code migrate-incoming}, {@code auto-converge} only the source).
 *
 * @param postcopyArmed whether {@code postcopy-ram} is set on both sides, so that a switch is possible
 * @param note          what the user should know about a choice made here, or null
 */
record LiveOptions(long maxDowntimeMs, Double bandwidthMibS, String postcopy, boolean autoConverge, Integer multifd,
    String compress, boolean copyStorage, String targetPool, Long timeoutMs, boolean postcopyArmed, String note) {

  static final long DEFAULT_DOWNTIME_MS = 300;
  /** the lowest downtime-limit a migration starts with (when the allowance is higher) */
  static final long MIN_START_DOWNTIME_MS = 20;
  /** Without --bandwidth: far above QEMU's 128 MiB/s default, which is what stops convergence (qemu-notes). */
  static final long UNCAPPED_BYTES_PER_S = 10L << 30;

  /**
   * Checks what can be checked without the cluster's state (→ 400 naming the field) and applies
   * defaults. Unasked, post-copy is {@code auto} when {@code armUnasked} (the caller found that the
   * target can run it and a measurement of the guest says pre-copy would stall:
   * {@link Predictor#armsPostcopy}) and multifd does not rule it out; else {@code never}.
   */
  static LiveOptions validate(LiveMigrationRequest r, boolean armUnasked) {
    try {
      MigrationRules.checkLive(r, Spelling.API);
    } catch (RuleViolation v) {
      throw ControllerException.invalid(v.field(), v.value(), v.allowed(), v.getMessage());
    }
    long downtime = r.maxDowntimeMs() == null ? DEFAULT_DOWNTIME_MS : r.maxDowntimeMs();
    String postcopy = r.postcopy() != null ? r.postcopy()
        : armUnasked && r.multifd() == null ? "auto" : "never";
    String compress = r.compress() == null ? "none" : r.compress();
    boolean copy = Boolean.TRUE.equals(r.copyStorage());
    boolean armed = !postcopy.equals("never") && r.multifd() == null;
    String note = !postcopy.equals("never") && !armed
        ? "post-copy not armed: qemu refuses post-copy together with multifd, so a stuck migration is cancelled" : null;
    return new LiveOptions(downtime, r.bandwidthMibS(), postcopy, Boolean.TRUE.equals(r.autoConverge()), r.multifd(),
        compress, copy, r.targetPool(), r.timeoutMs(), armed, note);
  }

  /** The plan stored with the migration: these options and the disks preflight chose to copy. */
  MigrationPlan plan(List<CopyStorageDisk> copies) {
    return new MigrationPlan(maxDowntimeMs, bandwidthMibS, postcopy, autoConverge, multifd, compress, copyStorage,
        targetPool, timeoutMs, postcopyArmed, copies.stream()
            .map(c -> new MigrationPlan.PlannedCopy(c.disk(), c.pool(), c.format(), c.virtualSize())).toList());
  }

  /** The options of a stored plan, as preflight decided them (its note is in the record's reason already). */
  static LiveOptions of(MigrationPlan p) {
    return new LiveOptions(p.maxDowntimeMs(), p.bandwidthMibS(), p.postcopy(), p.autoConverge(), p.multifd(),
        p.compress(), p.copyStorage(), p.targetPool(), p.timeoutMs(), p.postcopyArmed(), null);
  }

  /**
   * The downtime-limit QEMU starts with: a sixth of the allowed {@link #maxDowntimeMs} (50 ms of the
   * default 300), at least {@link #MIN_START_DOWNTIME_MS}. QEMU switches over as soon as what is
   * left fits in its limit at the measured bandwidth, so with the whole allowance from the start a
   * guest that could have stopped for 30 ms stopped for up to 286 ms (the live bench, a 16 MiB hot
   * set, against 32–48 ms under Proxmox's and Nova's lower limits). {@link Convergence} raises the
   * limit to what the measured remainder needs once passes stop shrinking it, never above the
   * allowance.
   */
  long startDowntimeMs() {
    return startDowntimeMs(maxDowntimeMs);
  }

  /** {@link #startDowntimeMs()} for an allowance of {@code maxDowntimeMs}. */
  static long startDowntimeMs(long maxDowntimeMs) {
    return Math.min(maxDowntimeMs, Math.max(MIN_START_DOWNTIME_MS, maxDowntimeMs / 6));
  }

  /** max-bandwidth in bytes/s: the user's cap, else {@link #UNCAPPED_BYTES_PER_S}. */
  long bandwidthBytesPerS() {
    return bandwidthMibS == null ? UNCAPPED_BYTES_PER_S : (long) (bandwidthMibS * 1024 * 1024);
  }

  /** The rungs of the convergence policy taken before the first byte, as the record lists them. */
  java.util.List<String> firstRungs() {
    var rungs = new java.util.ArrayList<String>();
    rungs.add(bandwidthCapped() ? "bandwidth capped at " + bandwidthMibS + " MiB/s (--bandwidth), pre- and post-copy"
        : "bandwidth uncapped from the start (no --bandwidth)");
    if (startDowntimeMs() < maxDowntimeMs) {
      rungs.add("downtime limit " + startDowntimeMs() + " ms at the start, of the " + maxDowntimeMs + " ms allowed");
    }
    if (autoConverge) {
      rungs.add("auto-converge on from the start, throttle step " + Convergence.THROTTLE_STEPS[0] + " %");
    }
    return rungs;
  }

  boolean bandwidthCapped() {
    return bandwidthMibS != null;
  }

  /** Capabilities both hosts set: the stream's format must match on either end. */
  Map<String, Boolean> targetCapabilities() {
    var caps = new LinkedHashMap<String, Boolean>();
    if (postcopyArmed) caps.put("postcopy-ram", true);
    if (multifd != null) caps.put("multifd", true);
    if (compress.equals("xbzrle")) caps.put("xbzrle", true);
    return caps;
  }

  Map<String, Boolean> sourceCapabilities() {
    var caps = targetCapabilities();
    if (autoConverge) caps.put("auto-converge", true);
    return caps;
  }

  Map<String, Object> targetParameters() {
    var params = new LinkedHashMap<String, Object>();
    if (multifd != null) params.put("multifd-channels", multifd);
    if (compress.equals("zstd")) params.put("multifd-compression", "zstd");
    return params;
  }

  /** @param guestBytes the guest's RAM, to size the xbzrle cache */
  Map<String, Object> sourceParameters(long guestBytes) {
    var params = new LinkedHashMap<String, Object>();
    params.put("downtime-limit", startDowntimeMs());
    params.put("max-bandwidth", bandwidthBytesPerS());
    // qemu drops max-bandwidth at the switch to post-copy (0 = unlimited): the user's cap holds there too
    if (postcopyArmed && bandwidthCapped()) params.put("max-postcopy-bandwidth", bandwidthBytesPerS());
    params.putAll(targetParameters());
    if (autoConverge) params.putAll(Convergence.throttle(0));
    if (compress.equals("xbzrle")) params.put("xbzrle-cache-size", xbzrleCache(guestBytes));
    return params;
  }

  /** A quarter of the guest's RAM as a power of two, 4 MiB to 1 GiB (qemu's default is 64 MiB). */
  static long xbzrleCache(long guestBytes) {
    long quarter = Long.highestOneBit(Math.max(1, guestBytes / 4));
    return Math.max(4L << 20, Math.min(1L << 30, quarter));
  }
}
