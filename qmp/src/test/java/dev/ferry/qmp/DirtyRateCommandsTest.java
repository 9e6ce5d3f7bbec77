package dev.ferry.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.qmp.migration.CalcDirtyRate;
import dev.ferry.qmp.migration.QueryDirtyRate;
import dev.ferry.qmp.migration.QueryDirtyRate.DirtyRateInfo;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** calc-dirty-rate and query-dirty-rate against what QEMU 7.2.22 answered on this machine. */
class DirtyRateCommandsTest {

  @Test
  void calcDirtyRate_sampling_sendsSecondsAndMode() {
    CalcDirtyRate c = CalcDirtyRate.sampling(1);
    assertThat(c.name()).isEqualTo("calc-dirty-rate");
    assertThat(c.arguments()).isEqualTo(Map.of("calc-time", 1L, "mode", "page-sampling"));
  }

  @Test
  void calcDirtyRate_outsideQemu72Range_isRefusedBeforeSending() {
    // QEMU 7.2: "calc-time is out of range[1, 60]."
    assertThatThrownBy(() -> CalcDirtyRate.sampling(0)).hasMessageContaining("1-60");
    assertThatThrownBy(() -> CalcDirtyRate.sampling(61)).hasMessageContaining("1-60");
  }

  @Test
  void queryDirtyRate_beforeAnyMeasurement_isUnstartedWithoutRate() throws Exception {
    DirtyRateInfo info = new QueryDirtyRate().parse(QmpCodec.MAPPER.readTree(
        "{\"status\": \"unstarted\", \"sample-pages\": 0, \"mode\": \"page-sampling\", \"start-time\": 0,"
            + " \"calc-time\": 0}"));
    assertThat(info).isEqualTo(new DirtyRateInfo("unstarted", OptionalLong.empty(), 0, 0, "page-sampling"));
    assertThat(info.measured()).isFalse();
  }

  @Test
  void queryDirtyRate_measured_readsTheRate() throws Exception {
    DirtyRateInfo info = new QueryDirtyRate().parse(QmpCodec.MAPPER.readTree(
        "{\"status\": \"measured\", \"sample-pages\": 512, \"dirty-rate\": 108, \"mode\": \"page-sampling\","
            + " \"start-time\": 14724, \"calc-time\": 1}"));
    assertThat(info).isEqualTo(new DirtyRateInfo("measured", OptionalLong.of(108), 14724, 1, "page-sampling"));
    assertThat(info.measured()).isTrue();
  }

  @Test
  void queryDirtyRate_measuring_isNotMeasured() throws Exception {
    DirtyRateInfo info = new QueryDirtyRate().parse(QmpCodec.MAPPER.readTree(
        "{\"status\": \"measuring\", \"sample-pages\": 512, \"mode\": \"page-sampling\", \"start-time\": 14724,"
            + " \"calc-time\": 1}"));
    assertThat(info.measured()).isFalse();
    assertThat(info.status()).isEqualTo(DirtyRateInfo.MEASURING);
  }
}
