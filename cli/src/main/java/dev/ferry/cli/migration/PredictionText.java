package dev.ferry.cli.migration;

import dev.ferry.api.MigrationPrediction;
import dev.ferry.cli.output.MigrationText;
import java.util.Locale;

/** How {@code ferry migrate live --dry-run} prints a {@link MigrationPrediction}. */
final class PredictionText {

  private PredictionText() {}

  static String of(String vm, String to, MigrationPrediction p) {
    String nl = System.lineSeparator();
    StringBuilder b = new StringBuilder("dry run: live migration of vm ").append(vm).append(" to host ").append(to)
        .append(" (nothing started)").append(nl);
    b.append("predicted total ").append(MigrationText.duration(p.predictedTotalMs())).append(", downtime ")
        .append(p.predictedDowntimeMs() == null ? "-" : MigrationText.duration(p.predictedDowntimeMs()))
        .append(p.converges() ? "" : " (does not converge)").append(nl);
    b.append("  ").append(p.outcome()).append(": ").append(p.explanation()).append(nl);
    b.append("  dirty rate ").append(mib(p.dirtyRateMibS())).append(" (measured on the source for ")
        .append(p.dirtyRateCalcS()).append(" s)").append(nl);
    b.append("  link ").append(mib(p.linkMibS())).append(" (").append(p.linkSource()).append(": ")
        .append(p.linkNote()).append(")").append(nl);
    b.append("  bandwidth ").append(mib(p.bandwidthMibS())).append(", downtime limit ").append(p.maxDowntimeMs())
        .append(" ms, guest RAM ").append(p.guestMib()).append(" MiB, ").append(p.passes())
        .append(p.passes() == 1 ? " pass" : " passes").append(nl);
    return b.toString();
  }

  private static String mib(double mibPerS) {
    return String.format(Locale.ROOT, "%.1f MiB/s", mibPerS);
  }
}
