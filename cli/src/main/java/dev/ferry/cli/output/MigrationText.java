package dev.ferry.cli.output;

import dev.ferry.api.MigrationStatus;
import dev.ferry.api.MigrationView;
import dev.ferry.api.Sizes;
import dev.ferry.cli.host.HostList;
import java.util.Locale;

/** How migration figures read on a terminal, shared by the progress line, list and show. */
public final class MigrationText {

  private MigrationText() {}

  /** Transferred of total, 0-100; 100 once succeeded; -1 while the total is unknown. */
  public static int percent(MigrationView v) {
    if (v.status() == MigrationStatus.SUCCEEDED) return 100;
    if (v.totalBytes() <= 0) return -1;
    return (int) Math.max(0, Math.min(100, v.transferredBytes() * 100 / v.totalBytes()));
  }

  public static String percentText(MigrationView v) {
    int p = percent(v);
    return p < 0 ? "-" : p + "%";
  }

  /** {@code 850 ms}, {@code 12.3 s}, {@code 2m 05s}, {@code 1h 02m}; {@code -} when unknown. */
  public static String duration(Long ms) {
    if (ms == null) return "-";
    if (ms < 1000) return ms + " ms";
    if (ms < 60_000) return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
    long s = ms / 1000;
    if (s < 3600) return String.format(Locale.ROOT, "%dm %02ds", s / 60, s % 60);
    return String.format(Locale.ROOT, "%dh %02dm", s / 3600, s % 3600 / 60);
  }

  public static String rate(Double bytesPerS) {
    return bytesPerS == null || bytesPerS.isNaN() ? "-/s" : Sizes.format(Math.round(bytesPerS)) + "/s";
  }

  /** {@code yes}, {@code no}, or {@code skipped} (null once final; {@code -} while running). */
  public static String verified(MigrationView v) {
    if (v.verified() != null) return v.verified() ? "yes" : "no";
    return v.status() == MigrationStatus.RUNNING ? "-" : "skipped";
  }

  /** The line printed on stdout when a followed migration has ended. */
  public static String summary(MigrationView v) {
    StringBuilder b = new StringBuilder("migration ").append(v.id()).append(' ').append(HostList.lower(v.status()))
        .append(" in ").append(duration(v.totalMs())).append(": ").append(v.kind()).append(" of vm ").append(v.vm())
        .append(' ').append(v.source()).append(" -> ").append(v.target());
    if (v.downtimeMs() != null) b.append(", downtime ").append(duration(v.downtimeMs()));
    if (v.kind() != null && v.kind().equals("storage")) b.append(", verified ").append(verified(v));
    if (v.kind() != null && v.kind().equals("cold")) {
      b.append(", sent ").append(v.copiedBytes()).append(" bytes, skipped ").append(v.skippedBytes())
          .append(" (holes and zeroes), verified ").append(verified(v));
    }
    if (v.kind() != null && v.kind().equals("warm")) {
      b.append(" (predicted ").append(duration(v.predictedDowntimeMs())).append(")");
      b.append(", ").append(v.passes()).append(v.passes() == 1 ? " pass" : " passes").append(", sent ")
          .append(v.copiedBytes()).append(" bytes, skipped ").append(v.skippedBytes()).append(", verified ")
          .append(verified(v));
    }
    if (v.kind() != null && v.kind().equals("live")) {
      b.append(", ").append(v.passes()).append(v.passes() == 1 ? " pass" : " passes");
      if (v.postcopy()) b.append(", post-copy");
      if (v.postcopyRecoveries() > 0) b.append(", link recovered ").append(v.postcopyRecoveries()).append(" time(s)");
    }
    return b.toString();
  }
}
