package dev.ferry.qmp.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.Members;
import java.util.OptionalLong;

/**
 * {@code query-dirty-rate}: the result of the last {@link CalcDirtyRate}. Before any measurement
 * QEMU 7.2 answers {@code {status: unstarted, sample-pages: 0, mode: page-sampling, start-time: 0,
 * calc-time: 0}}; {@code dirty-rate} is present only once {@code measured}.
 */
public record QueryDirtyRate() implements QmpCommand<QueryDirtyRate.DirtyRateInfo> {

  @Override
  public String name() {
    return "query-dirty-rate";
  }

  @Override
  public DirtyRateInfo parse(JsonNode ret) {
    if (!ret.isObject()) throw new IllegalArgumentException("query-dirty-rate return is not an object");
    return new DirtyRateInfo(Members.text(ret, "status"), Members.optionalInteger64(ret, "dirty-rate"),
        Members.integer64(ret, "start-time"), Members.integer64(ret, "calc-time"),
        Members.optionalText(ret, "mode").orElse(CalcDirtyRate.PAGE_SAMPLING));
  }

  /**
   * QAPI {@code DirtyRateInfo}.
   *
   * @param status     QAPI {@code DirtyRateStatus}: {@code unstarted}, {@code measuring}, {@code measured}
   * @param dirtyRate  MiB/s (QEMU's "MB/s" is pages × page size {@code >> 20} per second), once measured
   * @param startTime  when the measurement started, seconds of QEMU's monotonic clock
   * @param calcTime   how long it measured (measures), seconds
   * @param mode       how it measured
   */
  public record DirtyRateInfo(String status, OptionalLong dirtyRate, long startTime, long calcTime, String mode) {

    public static final String UNSTARTED = "unstarted";
    public static final String MEASURING = "measuring";
    public static final String MEASURED = "measured";

    public boolean measured() {
      return MEASURED.equals(status) && dirtyRate.isPresent();
    }
  }
}
