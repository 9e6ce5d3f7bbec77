package dev.ferry.app.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CopyReportTest {

  private static Map<String, Object> image(String name, long size, long data, long ferry, long convert, long nbdcopy) {
    var m = new LinkedHashMap<String, Object>();
    m.put("image", name);
    m.put("size_bytes", size << 20);
    m.put("data_bytes", data << 20);
    m.put("ferry_ms", List.of(ferry + 10, ferry, ferry + 5));
    m.put("ferry_median_ms", ferry + 5);
    m.put("ferry_mib_s", 1.0);
    m.put("qemu_img_ms", List.of(convert));
    m.put("qemu_img_median_ms", convert);
    m.put("qemu_img_mib_s", 2.0);
    m.put("nbdcopy_ms", List.of(nbdcopy));
    m.put("nbdcopy_median_ms", nbdcopy);
    m.put("nbdcopy_mib_s", 3.0);
    m.put("ferry_vs_best", 1.25);
    return m;
  }

  private static Map<String, Object> report() {
    var r = new LinkedHashMap<String, Object>();
    r.put("date", "d");
    r.put("cpus", 2);
    r.put("loadavg_start", "0.10 0.20 0.30");
    r.put("loadavg_end", "1.00 0.50 0.40");
    r.put("runs", 3);
    r.put("ferry_options", "4 connections x 8 requests of 256 KiB in flight");
    r.put("qemu_img_version", "qemu-img version 7.2.19");
    r.put("nbdcopy_version", "nbdcopy 1.14.2");
    r.put("images", List.of(image("full", 1024, 1024, 800, 900, 1000), image("sparse", 2048, 64, 200, 250, 260)));
    return r;
  }

  @Test
  void markdown_oneRowPerImageWithMediansRatioSingleRunsLoadAndReproduceCommand() {
    String md = CopyReport.markdown(report());

    assertThat(md).contains("| full | 1024 MiB | 1024 MiB | 805 ms (1.0 MiB/s) | 900 ms (2.0 MiB/s) | 1000 ms (3.0 MiB/s) | **1.25x** |")
        .contains("| sparse | 2048 MiB | 64 MiB | 205 ms")
        .contains("| full | 810, 800, 805 | 900 | 1000 |")
        .contains("load average (1, 5, 15 min) 0.10 0.20 0.30 at the start, 1.00 0.50 0.40 at")
        .contains("`./ferry bench copy --size 1024 --sparse-size 2048 --sparse-data 64 --runs 3`")
        .contains("nbdcopy 1.14.2");
  }

  @Test
  void markdown_withoutTheWarmPart_saysItIsNotMeasuredYet() {
    assertThat(CopyReport.markdown(report())).contains("## Warm vs cold, predicted vs actual cutover")
        .contains("Not measured in this run (`--warm-runs 0`)");
  }

  private static Map<String, Object> warmPart(long diskMib, long coldCopyMs, long warmMs, double ratio, boolean met) {
    var w = new LinkedHashMap<String, Object>();
    w.put("disk_bytes", diskMib << 20);
    w.put("swept_mib", 16);
    w.put("write_rate_mib_s", 1);
    w.put("runs", 3);
    w.put("passes_before_cutover", 3);
    w.put("loadavg_start", "1.00 1.00 1.00");
    w.put("loadavg_end", "2.00 2.00 2.00");
    w.put("seconds", 200L);
    w.put("cold", Map.of("downtime_ms", 9000L, "copy_ms", coldCopyMs, "shutdown_ms", 600L, "copied_bytes", diskMib << 20));
    var one = new LinkedHashMap<String, Object>();
    one.put("run", 1);
    one.put("to", "bench-a");
    one.put("passes", 4L);
    one.put("predicted_downtime_ms", 2600L);
    one.put("downtime_ms", 2400L);
    one.put("prediction_error_pct", 8.3);
    one.put("shutdown_ms", 550L);
    one.put("verify_ms", 900L);
    one.put("start_ms", 700L);
    one.put("loadavg", "1.50 1.00 1.00");
    w.put("warm_runs", List.of(one));
    w.put("warm_downtime_median_ms", warmMs);
    w.put("warm_vs_cold_copy", ratio);
    w.put("warm_vs_cold_downtime", 0.27);
    w.put("goal_warm_vs_cold_copy_met", met);
    w.put("prediction_error_median_pct", 8.3);
    w.put("goal_prediction_met", true);
    return w;
  }

  @Test
  void markdown_withTheWarmPart_coldAndWarmDowntimesPredictionErrorsAndGoals() {
    var r = report();
    r.put("warm", warmPart(1024, 4000, 2400, 0.6, false));

    String md = CopyReport.markdown(r);

    assertThat(md).doesNotContain("Not measured")
        .contains("| cold | 9000 ms | 4000 ms | 600 ms | 1024 MiB |")
        .contains("| warm (median of 3) | **2400 ms** |")
        .contains("**0.6x** (goal: at most 0.05x: missed)")
        .contains("| 1 | bench-a | 4 | 2600 ms | 2400 ms | +8.3 % | 550 ms | 900 ms | 700 ms | 1.50 1.00 1.00 |")
        .contains("Median error **+8.3 %** (goal: within ±25 %: met)");
  }

  @Test
  void markdown_warmPartsOfSeveralSizes_aRatioPerSizeThenEachPart() {
    var r = report();
    r.put("warm", List.of(warmPart(1024, 6800, 680, 0.1, false), warmPart(4096, 27000, 700, 0.026, true)));

    String md = CopyReport.markdown(r);

    assertThat(md).contains("this\nrun measured it at 2 sizes")
        .contains("| 1024 MiB | 6800 ms | 680 ms | **0.1x** | missed |")
        .contains("| 4096 MiB | 27000 ms | 700 ms | **0.026x** | met |")
        .contains("### Disk of 1024 MiB").contains("### Disk of 4096 MiB")
        .contains("(goal: at most 0.05x: met)");
  }
}
