package dev.ferry.agent.warm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HashLedgerTest {

  @Test
  void aPass_setsItsChunks_keepsTheOthers_andSurvivesARestart(@TempDir Path dir) {
    Path f = dir.resolve("m.hashes");
    var l = HashLedger.unknown("m1", Map.of("vda", 3L << 20));
    assertThat(l.unknownChunks()).isEqualTo(3);

    l.with(0, Map.of("vda", Map.of(0, "a", 1, "b", 2, "c"))).write(f);
    HashLedger back = HashLedger.read(f).orElseThrow().with(1, Map.of("vda", Map.of(1, "B")));

    assertThat(back.pass()).isEqualTo(1);
    assertThat(back.known("vda")).containsExactly("a", "B", "c");
    assertThat(back.chunkBytes("vda")).isEqualTo(1 << 20);
  }

  @Test
  void forgotten_leavesEveryChunkUnknown_soTheCutoverHashesWhole() {
    var l = HashLedger.unknown("m1", Map.of("vda", 2L << 20)).with(0, Map.of("vda", Map.of(0, "a", 1, "b")));

    var f = l.forgotten();

    assertThat(f.pass()).isEqualTo(-1);
    assertThat(f.unknownChunks()).isEqualTo(2);
    assertThat(f.known("vda")).containsOnlyNulls();
  }
}
