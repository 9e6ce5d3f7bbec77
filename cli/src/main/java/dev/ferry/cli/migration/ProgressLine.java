package dev.ferry.cli.migration;

import dev.ferry.api.MigrationStatus;
import dev.ferry.api.MigrationView;
import dev.ferry.api.Sizes;
import dev.ferry.cli.host.HostList;
import dev.ferry.cli.output.MigrationText;
import java.io.PrintWriter;

/**
 * The progress of a followed migration on stderr: phase, a bar, percent (transferred of total),
 * bytes, rate and ETA. On a terminal one line is redrawn in place; elsewhere (a pipe, a log, a
 * test) a line is printed when the phase changes or another tenth is done, so logs stay short.
 */
final class ProgressLine implements MigrationFollower.Listener {

  private static final int BAR = 20;

  private final PrintWriter err;
  private final boolean redraw;
  private int shown; // width of the line on screen in redraw mode, 0 when none
  private String lastPhase;
  private int lastTenth = -1;

  ProgressLine(PrintWriter err, boolean redraw) {
    this.err = err;
    this.redraw = redraw;
  }

  @Override
  public void changed(MigrationView view) {
    String line = render(view);
    if (redraw) {
      err.print("\r" + line + " ".repeat(Math.max(0, shown - line.length())));
      shown = line.length();
    } else {
      String phase = label(view);
      int tenth = MigrationText.percent(view) < 0 ? -1 : MigrationText.percent(view) / 10;
      if (phase.equals(lastPhase) && tenth == lastTenth) return;
      lastPhase = phase;
      lastTenth = tenth;
      err.println(line);
    }
    err.flush();
  }

  @Override
  public void finished(MigrationView view) {
    endLine();
    err.flush();
  }

  @Override
  public void note(String message) {
    endLine();
    err.println("ferry: " + message);
    err.flush();
  }

  private void endLine() {
    if (redraw && shown > 0) err.println();
    shown = 0;
  }

  /** {@code mirror   [########------------]  40%  1.2 GiB/3.0 GiB  85.3 MiB/s  ETA 21.0 s} */
  static String render(MigrationView view) {
    if ("warm".equals(view.kind())) return renderWarm(view);
    int percent = MigrationText.percent(view);
    int filled = percent < 0 ? 0 : percent * BAR / 100;
    return String.format("%-9s [%s%s] %4s  %s/%s  %s  ETA %s", label(view), "#".repeat(filled),
        "-".repeat(BAR - filled), percent < 0 ? "?%" : percent + "%", Sizes.format(view.transferredBytes()),
        Sizes.format(view.totalBytes()), MigrationText.rate(view.throughputBytesPerS()),
        view.etaMs() == null ? "?" : MigrationText.duration(view.etaMs()));
  }

  /** {@code copying  pass 3  dirty 12.0 MiB since the last pass  sent 140 MiB  85.3 MiB/s  predicted cutover 4.2 s} */
  static String renderWarm(MigrationView view) {
    return String.format("%-13s pass %d  dirty %s since the last pass  sent %s  %s  predicted cutover %s", label(view),
        view.passes(), Sizes.format(view.dirtyBytes()), Sizes.format(view.copiedBytes()),
        MigrationText.rate(view.throughputBytesPerS()), MigrationText.duration(view.predictedDowntimeMs()));
  }

  /** The phase while running; once final the status, which is what matters then. */
  private static String label(MigrationView view) {
    if (view.status() != MigrationStatus.RUNNING) return HostList.lower(view.status());
    return view.phase() == null ? "starting" : view.phase();
  }
}
