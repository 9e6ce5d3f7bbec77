package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * {@code query-version}: the QEMU version; the same as {@link QmpClient#greeting()} reports, here
 * as a round trip (a cheap liveness probe).
 */
public record QueryVersion() implements QmpCommand<VersionInfo> {

  @Override
  public String name() {
    return "query-version";
  }

  @Override
  public VersionInfo parse(JsonNode ret) {
    return VersionInfo.parse(ret);
  }
}
