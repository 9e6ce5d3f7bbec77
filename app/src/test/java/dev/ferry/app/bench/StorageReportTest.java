package dev.ferry.app.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StorageReportTest {

  private static Map<String, Object> variant(int cap, double mibS, double latRatio) {
    var v = new LinkedHashMap<String, Object>();
    v.put("cap_mib_s", cap);
    v.put("mirror_ms", 1000L);
    v.put("mirror_mib_s", mibS);
    v.put("mirror_vs_convert", 0.5);
    v.put("guest_lat_before_mean_us", 1000.0);
    v.put("guest_lat_during_mean_us", 1000.0 * latRatio);
    v.put("guest_lat_during_max_us", 9000.0);
    v.put("guest_lat_during_vs_before", latRatio);
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
    r.put("convert_ms", 800L);
    r.put("convert_mib_s", 2560.0);
    r.put("variants", List.of(variant(0, 1280, 4.0), variant(200, 200, 1.2)));
    return r;
  }

  @Test
  void markdown_oneRowPerVariant_withLoadPlotAndTheCommandThatReproducesIt() {
    String md = StorageReport.markdown(report());

    assertThat(md).contains("| none | 1000 ms | 1280.0 MiB/s | **0.5** |")
        .contains("| 200 MiB/s | 1000 ms | 200.0 MiB/s |")
        .contains("load average (1, 5, 15 min) 0.10 0.20 0.30 at the start")
        .contains("![mirror throughput vs guest write latency](storage-tradeoff.png)")
        .contains("`./ferry bench storage --size 2048 --variants 0,200`");
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
