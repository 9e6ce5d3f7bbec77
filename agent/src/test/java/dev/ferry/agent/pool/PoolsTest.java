package dev.ferry.agent.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.agent.AgentException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PoolsTest {

  @TempDir Path tmp;

  @Test
  void define_newPool_createsDirectoryAndSurvivesReload() {
    Path dir = tmp.resolve("pools/local");
    Pools.Defined d = Pools.load(tmp, "host1").define("local", dir.toString(), false);

    assertThat(d.created()).isTrue();
    assertThat(Files.isDirectory(dir)).isTrue();
    assertThat(d.view().host()).isEqualTo("host1");
    assertThat(d.view().capacityBytes()).isPositive();
    Pools reloaded = Pools.load(tmp, "host1");
    assertThat(reloaded.all()).containsExactly(new Pool("local", dir, false));
  }

  @Test
  void define_samePathTwice_isIdempotent() {
    Pools pools = Pools.load(tmp, "host1");
    pools.define("shared", tmp.resolve("s").toString(), true);

    Pools.Defined again = pools.define("shared", tmp.resolve("s") + "/", true);

    assertThat(again.created()).isFalse();
    assertThat(pools.all()).hasSize(1);
  }

  @Test
  void define_otherPathSameName_isConflict() {
    Pools pools = Pools.load(tmp, "host1");
    pools.define("local", tmp.resolve("a").toString(), false);

    assertThatThrownBy(() -> pools.define("local", tmp.resolve("b").toString(), false))
        .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.kind()).isEqualTo(AgentException.Kind.CONFLICT));
    assertThat(Pools.load(tmp, "host1").get("local").path()).isEqualTo(tmp.resolve("a"));
  }

  @Test
  void define_badNameOrRelativePath_isBadInput() {
    Pools pools = Pools.load(tmp, "host1");

    assertThatThrownBy(() -> pools.define("Bad_Name", tmp.toString(), false))
        .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.field()).isEqualTo("name"));
    assertThatThrownBy(() -> pools.define("ok", "relative/dir", false))
        .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.field()).isEqualTo("path"));
  }

  @Test
  void get_unknownPool_isNotFound() {
    assertThatThrownBy(() -> Pools.load(tmp, "host1").get("nope"))
        .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.kind()).isEqualTo(AgentException.Kind.NOT_FOUND));
  }
}
