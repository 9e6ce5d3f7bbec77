package dev.ferry.agent.migration;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The guest RAM's mapping among a TCG QEMU's (as smaps showed it on a live-bench guest). */
class GuestResidentTest {

  private static final List<String> SMAPS = List.of(
      "55d0c0000000-55d0c0a00000 r-xp 00000000 08:01 123 /usr/bin/qemu-system-x86_64",
      "Size:              10240 kB",
      "Rss:                8000 kB",
      "7f8164000000-7f8173ffe000 rw-p 00000000 00:00 0",
      "Size:             262136 kB",
      "KernelPageSize:        4 kB",
      "Rss:              124920 kB",
      "7f817c000000-7f81bbfff000 rwxp 00000000 00:00 0",
      "Size:            1048572 kB",
      "Rss:               51200 kB");

  @Test
  void theMappingAsLargeAsTheGuestsMemory_givesItsResidentBytes() {
    assertThat(GuestResident.of(SMAPS, 262136L << 10)).hasValue(124920L << 10);
  }

  @Test
  void noMappingOfThatSize_isNotKnown() {
    assertThat(GuestResident.of(SMAPS, 512L << 20)).isEmpty();
    assertThat(GuestResident.of(-1, 256L << 20)).as("no such process").isEmpty();
  }
}
