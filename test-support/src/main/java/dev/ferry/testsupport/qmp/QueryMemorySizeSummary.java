package dev.ferry.testsupport.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.Members;
import java.util.OptionalLong;

/** {@code query-memory-size-summary}: the guest's RAM size. */
public record QueryMemorySizeSummary() implements QmpCommand<QueryMemorySizeSummary.MemoryInfo> {

  @Override
  public String name() {
    return "query-memory-size-summary";
  }

  @Override
  public MemoryInfo parse(JsonNode ret) {
    OptionalLong plugged = ret.has("plugged-memory")
        ? OptionalLong.of(Members.integer64(ret, "plugged-memory"))
        : OptionalLong.empty();
    return new MemoryInfo(Members.integer64(ret, "base-memory"), plugged);
  }

  /**
   * QAPI {@code MemoryInfo}.
   *
   * @param baseMemory boot RAM in bytes ({@code -m}); the migration target must match it
   * @param pluggedMemory hot-plugged RAM in bytes, when the machine has any memory devices
   */
  public record MemoryInfo(long baseMemory, OptionalLong pluggedMemory) {}
}
