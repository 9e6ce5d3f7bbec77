package dev.ferry.app.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FtReportTest {

  private static Map<String, Object> row(String what, Integer interval, double rate, Double pauseMedian) {
    var r = new LinkedHashMap<String, Object>();
    r.put("case", what);
    r.put("group", FtBench.QUIET);
    r.put("interval_ms", interval);
    r.put("mem_rate_mib_s", rate);
    r.put("echo_median_ms", 12.5);
    r.put("echo_p99_ms", 40.0);
    if (pauseMedian != null) {
      r.put("checkpoints_per_s", 1.0);
      r.put("pause_median_ms", pauseMedian.longValue());
      r.put("pause_max_ms", 90L);
      r.put("enable_pause_ms", 1100L);
    }
    return r;
  }

  @Test
  @SuppressWarnings("unchecked")
  void markdown_ratiosAgainstTheUnprotectedRow_andTheShortestIntervalWithin10PercentIsTheDefault() {
    var report = new LinkedHashMap<String, Object>();
    report.put("command", "./ferry bench ft --intervals 100,500,2000 --window 20");
    report.put("window_s", 20);
    report.put("rows", List.of(row("unprotected", null, 100.0, null), row("protected, 100 ms", 100, 40.0, 60.0),
        row("protected, 500 ms", 500, 91.0, 55.0), row("protected, 2000 ms", 2000, 97.0, 50.0)));
    ((Map<String, Object>) ((List<?>) report.get("rows")).get(1)).put("checkpoints_per_s", 10.0);
    report.put("failover", Map.of("detected_ms", 250, "takeover_ms", 150, "reprotect_secondary", "ft-c",
        "reprotect_ms", 5000, "stream_clean", true));

    String md = FtReport.markdown(report);

    assertThat(md).contains("| protected, 100 ms | 40.0 | 0.40x |").contains("| protected, 500 ms | 91.0 | 0.91x |")
        .contains("| unprotected | 100.0 | 1.00x |").contains("60 / 90")
        .contains("100 ms, no client: the guest keeps 40 % of its unprotected memory-writing rate here, and stands still"
            + " 60 % of the time for checkpoints (over VMware FT's 10 %)")
        .contains("| 60 / 90 | 60 % |").contains("| 55 / 90 | 6 % |")
        .contains("whose checkpoint pauses stay within 10 % of the time is 500 ms").contains("| 250 | 150 |").contains("ft-c");
  }

  @Test
  void percentile_medianAndP99_nullWhenEmpty() {
    assertThat(FtBench.percentile(List.of(3.0, 1.0, 2.0), 0.5)).isEqualTo(2.0);
    assertThat(FtBench.percentile(List.of(1.0, 2.0, 3.0, 4.0), 0.99)).isEqualTo(4.0);
    assertThat(FtBench.percentile(List.of(), 0.5)).isNull();
  }
}
