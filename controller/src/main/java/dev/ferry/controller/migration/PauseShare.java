package dev.ferry.controller.migration;

import dev.ferry.api.MigrationView;
import java.util.ArrayList;
import java.util.List;

/**
 * What share of QEMU's downtime-limit a host pair's recent pre-copy switchovers actually paused
 * for: the median of their {@code downtime_ms} over the limit they started with, over the newest
 * {@link #SAMPLES} that switched over under it (no post-copy, no raised limit). QEMU switches once
 * what is left fits the limit at the bandwidth it measured with the guest running, then sends it
 * with the vCPUs stopped, faster; so the pause is a fraction of the limit that depends on the
 * hosts more than on the guest (the live bench, a 50 ms limit: 3-15 ms for every workload, where
 * sending the last remainder at the running link said 14-45 ms). The prediction takes that
 * fraction of the limit its switchover comes under; without such a migration yet it keeps the
 * model's own figure.
 */
record PauseShare(double share, int of) {

  static final int SAMPLES = 5;

  /** From the pair's succeeded live migrations, newest first; null when none switched over under its start limit. */
  static PauseShare of(List<MigrationView> pair) {
    List<Double> shares = new ArrayList<>();
    for (MigrationView v : pair) {
      if (shares.size() >= SAMPLES) break;
      if (v.postcopy() || v.downtimeMs() == null || v.downtimeMs() <= 0 || v.plan() == null) continue;
      if (v.escalations() != null && v.escalations().stream().anyMatch(e -> e.contains("raised"))) continue;
      long limit = LiveOptions.startDowntimeMs(v.plan().maxDowntimeMs());
      if (limit <= 0) continue;
      shares.add(Math.min(1.0, v.downtimeMs() / (double) limit));
    }
    if (shares.isEmpty()) return null;
    shares.sort(Double::compare);
    int n = shares.size();
    double median = n % 2 == 1 ? shares.get(n / 2) : (shares.get(n / 2 - 1) + shares.get(n / 2)) / 2;
    return new PauseShare(median, n);
  }

  String percent() {
    return Math.round(share * 100) + " %";
  }

  /** Where the share comes from, in words. */
  String what() {
    return "the median of the last " + of + " pre-copy switchovers between the two hosts";
  }
}
