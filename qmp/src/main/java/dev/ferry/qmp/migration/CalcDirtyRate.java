package dev.ferry.qmp.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import java.util.Map;

/**
 * {@code calc-dirty-rate} (QEMU 5.2+): starts measuring how fast the guest dirties its memory and
 * returns at once; the result is read with {@link QueryDirtyRate} after {@code calc-time}. QEMU 7.2
 * takes whole seconds, 1 to 60 (milliseconds came in 8.2), and refuses a second measurement while
 * one runs ("the dirty rate is already being measured").
 *
 * <p>Only {@link #PAGE_SAMPLING} is used by Ferry: it hashes a sample of pages at the start and the
 * end and needs neither KVM's dirty ring nor the global dirty log, so it may run beside a
 * migration (which owns the dirty log).
 *
 * @param calcTimeS how long to measure, in seconds, 1 to 60
 * @param mode      QAPI {@code DirtyRateMeasureMode}: {@code page-sampling}, {@code dirty-ring},
 *                  {@code dirty-bitmap}
 */
public record CalcDirtyRate(long calcTimeS, String mode) implements QmpCommand<Void> {

  public static final String PAGE_SAMPLING = "page-sampling";

  public CalcDirtyRate {
    if (calcTimeS < 1 || calcTimeS > 60) {
      throw new IllegalArgumentException("calc-time " + calcTimeS + " s is outside QEMU 7.2's range 1-60 s");
    }
    if (mode == null || mode.isBlank()) throw new IllegalArgumentException("no dirty rate measure mode");
  }

  /** A page-sampling measurement of {@code calcTimeS} seconds. */
  public static CalcDirtyRate sampling(long calcTimeS) {
    return new CalcDirtyRate(calcTimeS, PAGE_SAMPLING);
  }

  @Override
  public String name() {
    return "calc-dirty-rate";
  }

  @Override
  public Map<String, ?> arguments() {
    return Map.of("calc-time", calcTimeS, "mode", mode);
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
