package dev.ferry.app.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StorageReportTest {

  /** One measured mirror, as StorageBench records it. */
  private static Map<String, Object> mirror(String variant, int run, double mibS, double latRatio) {
    var v = new LinkedHashMap<String, Object>();
    v.put("variant", variant);
    v.put("cap_mib_s", variant.equals("adaptive") ? 0 : Integer.parseInt(variant));
    v.put("adaptive", variant.equals("adaptive"));
    v.put("run", run);
    v.put("mirror_ms", 1000L * run);
    v.put("setup_ms", 40L);
    v.put("mirror_mib_s", mibS);
    v.put("copy_mib_s", mibS * 1.04);
    v.put("mirror_vs_convert", mibS / 2560);
    v.put("mirror_vs_convert_direct", mibS / 1280);
    v.put("mirror_vs_convert_unflushed", mibS / 5120);
    v.put("guest_lat_before_mean_us", 1000.0);
    v.put("guest_lat_during_mean_us", 1000.0 * latRatio);
    v.put("guest_lat_during_max_us", 9000.0 * run);
    v.put("guest_lat_during_vs_before", latRatio);
    v.put("guest_reports_during_mirror", 2);
    v.put("guest_disk_errors", 0L);
    v.put("pivot_ms", 8L);
    v.put("verify_ok", true);
    return v;
  }

  private static Map<String, Object> report() {
    var r = new LinkedHashMap<String, Object>();
    r.put("date", "d");
    r.put("cpus", 2);
    r.put("accelerator", "tcg");
    r.put("loadavg_start", "0.10 0.20 0.30");
    r.put("loadavg_end", "1.00 0.50 0.40");
    r.put("size_bytes", 2048L << 20);
    r.put("guest_write_rate_mib_s", 4);
    r.put("convert_cold_ms", 900L);
    r.put("convert_runs_ms", List.of(800L, 790L, 820L));
    r.put("convert_ms", 800L);
    r.put("convert_mib_s", 2560.0);
    r.put("convert_direct_runs_ms", List.of(1600L, 1590L, 1620L));
    r.put("convert_direct_ms", 1600L);
    r.put("convert_direct_mib_s", 1280.0);
    r.put("convert_unflushed_runs_ms", List.of(400L, 390L, 420L));
    r.put("convert_unflushed_ms", 400L);
    r.put("convert_unflushed_mib_s", 5120.0);
    r.put("runs", 3);
    var mirrors = new ArrayList<Map<String, Object>>();
    for (int run = 1; run <= 3; run++) {
      mirrors.add(mirror("0", run, 1000 + 100 * run, 3.0 + run));
      mirrors.add(mirror("200", run, 200, 1.2));
      mirrors.add(mirror("adaptive", run, 900, 1.5 + run / 10.0));
    }
    r.put("mirrors", mirrors);
    r.put("variants", StorageStats.summarize(List.of("0", "200", "adaptive"), mirrors));
    return r;
  }

  @Test
  void summarize_mediansAndRangeOfTheRunsPerVariant() {
    @SuppressWarnings("unchecked")
    var rows = (List<Map<String, Object>>) report().get("variants");

    assertThat(rows).extracting(v -> v.get("variant")).containsExactly("0", "200", "adaptive");
    Map<String, Object> none = rows.getFirst();
    assertThat(none.get("runs")).isEqualTo(3);
    assertThat(none.get("mirror_mib_s")).isEqualTo(1200.0);
    assertThat(none.get("mirror_mib_s_min")).isEqualTo(1100.0);
    assertThat(none.get("mirror_mib_s_max")).isEqualTo(1300.0);
    assertThat(none.get("guest_lat_during_vs_before")).isEqualTo(5.0);
    assertThat(none.get("guest_lat_during_max_us")).as("the worst of the runs").isEqualTo(27000.0);
    assertThat(StorageStats.median(List.of(4.0, 1.0, 3.0, 2.0))).isEqualTo(2.5);
  }

  @Test
  void markdown_oneRowPerVariant_withMediansRangesLoadPlotTuningLinkAndTheCommandThatReproducesIt() {
    String md = StorageReport.markdown(report());

    assertThat(md).contains("| none | 3 | 2000 ms (1000–3000) | 1200.0 MiB/s | **0.47** (0.43–0.51) | 0.94 | 0.23 | 40 ms |")
        .contains("`qemu-img convert -t writeback` copies the same image with the VM\nstopped: the offline baseline of the goal, 800 ms (2560.0 MiB/s; median of 3")
        .contains("default cache mode (`unsafe`: it never flushes, and its copy ends in the page cache) took 400\nms (5120.0 MiB/s, median of 3)")
        .contains("| 200 MiB/s | 3 |")
        .contains("| adaptive | 3 |")
        .contains("load average (1, 5, 15 min) 0.10 0.20 0.30 at the start")
        .contains("![mirror throughput vs guest write latency](storage-tradeoff.png)")
        .contains("[storage-tuning.md](storage-tuning.md)")
        .contains("`./ferry bench storage --size 2048 --variants 0,200,adaptive --runs 3`");
  }

  @Test
  void duringMirror_takesTheReportsWhoseSecondIsMostlyInsideTheMirror() {
    long s = TimeUnit.SECONDS.toNanos(1);
    var reports = new ArrayList<GuestDiskLines.At>();
    for (int i = 1; i <= 5; i++) reports.add(new GuestDiskLines.At(100L * i, new GuestDiskLines.Sample(4, 0, i, i)));
    // report i appears at i seconds; the mirror runs from 1.2 s to 3.4 s
    var marks = new ArrayList<long[]>();
    for (int i = 0; i <= 5; i++) marks.add(new long[] {i * s, 100L * i});

    var in = StorageBench.duringMirror(reports, marks, 1200 * s / 1000, 3400 * s / 1000);

    // report 2 covers 1-2 s (middle 1.5 s, inside), 3 covers 2-3 s, 4 covers 3-4 s (middle 3.5 s, outside)
    assertThat(in).extracting(GuestDiskLines.Sample::latUs).containsExactly(2.0, 3.0);
    assertThat(StorageBench.duringMirror(reports, marks, 1200 * s / 1000, 1300 * s / 1000))
        .as("a mirror shorter than a report's half second: the first report after its start")
        .extracting(GuestDiskLines.Sample::latUs).containsExactly(2.0);
  }

  @Test
  void plot_writesAPng(@TempDir Path dir) throws Exception {
    Path png = dir.resolve("p.png");

    StoragePlot.write(report(), png);

    var img = ImageIO.read(png.toFile());
    assertThat(img.getWidth()).isEqualTo(720);
    assertThat(img.getHeight()).isEqualTo(480);
  }
}
