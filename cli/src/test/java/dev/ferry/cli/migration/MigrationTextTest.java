package dev.ferry.cli.migration;

import static dev.ferry.api.MigrationStatus.RUNNING;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.MigrationView;
import dev.ferry.cli.Samples;
import dev.ferry.cli.output.MigrationText;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class MigrationTextTest {

  @Test
  void duration_eachRange_readsInItsUnit() {
    assertThat(MigrationText.duration(null)).isEqualTo("-");
    assertThat(MigrationText.duration(850L)).isEqualTo("850 ms");
    assertThat(MigrationText.duration(12_345L)).isEqualTo("12.3 s");
    assertThat(MigrationText.duration(125_000L)).isEqualTo("2m 05s");
    assertThat(MigrationText.duration(3_720_000L)).isEqualTo("1h 02m");
  }

  @Test
  void percent_unknownTotal_isMinusOneAndRendersQuestionMark() {
    MigrationView v = Samples.storage("m-1", RUNNING, "preflight", 0, null);
    MigrationView unknown = new MigrationView(v.id(), v.kind(), v.vm(), v.source(), v.target(), v.status(), v.phase(),
        v.startedAt(), null, null, 0, 0, 0, null, null, 0, null, null, null, false, 0, null, null, v.disks(), 0, List.of(), null, null, List.of());

    assertThat(MigrationText.percent(unknown)).isEqualTo(-1);
    assertThat(ProgressLine.render(unknown)).isEqualTo(
        "preflight [--------------------]   ?%  0 B/0 B  -/s  ETA ?");
  }

  @Test
  void progressLine_terminal_redrawsOneLineAndEndsItOnce() {
    StringWriter err = new StringWriter();
    ProgressLine line = new ProgressLine(new PrintWriter(err), true);

    line.changed(Samples.storage("m-1", RUNNING, "mirror", Samples.GIB, null));
    line.changed(Samples.storage("m-1", RUNNING, "ready", 4 * Samples.GIB, null));
    line.finished(Samples.storage("m-1", RUNNING, "ready", 4 * Samples.GIB, null));

    assertThat(err.toString()).startsWith("\rmirror    [#####").contains("\rready     [####################] 100%")
        .endsWith(System.lineSeparator()).doesNotContain(System.lineSeparator() + "\r");
  }

  @Test
  void progressLine_notTerminal_printsOnlyOnPhaseOrTenthChange() {
    StringWriter err = new StringWriter();
    ProgressLine line = new ProgressLine(new PrintWriter(err), false);

    for (long mib : new long[] {100, 200, 300, 500, 1000}) {
      line.changed(Samples.storage("m-1", RUNNING, "mirror", mib << 20, null));
    }

    // 2%, 4%, 7% share the first tenth; 12% and 24% start new ones
    assertThat(err.toString().lines()).hasSize(3);
  }
}
