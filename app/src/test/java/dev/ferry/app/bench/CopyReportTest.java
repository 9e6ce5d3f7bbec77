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
        .contains("Not measured in this run");
  }

  @Test
  void markdown_withTheWarmPart_rendersIt() {
    var r = report();
    r.put("warm", Map.of("markdown", "| warm | 40 ms |"));

    assertThat(CopyReport.markdown(r)).contains("| warm | 40 ms |").doesNotContain("Not measured in this run");
  }
}
