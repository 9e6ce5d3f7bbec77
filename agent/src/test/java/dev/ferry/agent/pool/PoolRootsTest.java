package dev.ferry.agent.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.agent.AgentException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pools only under the operator's roots: never {@code /}, never over the agent's own state. */
class PoolRootsTest {

  @TempDir Path tmp;
  Path root;
  Path data;
  Pools pools;

  @BeforeEach
  void setUp() throws Exception {
    root = Files.createDirectories(tmp.resolve("pools"));
    data = Files.createDirectories(tmp.resolve("agent"));
    pools = Pools.load(data, "h1", new PoolRoots(List.of(root, data), data));
  }

  @Test
  void define_underARoot_isAccepted() {
    assertThat(pools.define("local", root.resolve("local").toString(), false).created()).isTrue();
    assertThat(pools.define("mine", data.resolve("local").toString(), false).created()).isTrue();
  }

  @Test
  void define_fileSystemRoot_isRefusedNamingPathValueAndRoots() {
    assertRefused("/", "the file system root is never a pool");
    assertRefused("/../..", "the file system root is never a pool");
  }

  @Test
  void define_outsideTheRoots_isRefusedNamingTheRoots() {
    assertRefused("/etc", root.toString());
    assertRefused(tmp.resolve("elsewhere").toString(), "--pool-root");
    assertRefused(root + "/../elsewhere", root.toString());
    assertThat(Files.exists(tmp.resolve("elsewhere"))).as("nothing created outside the roots").isFalse();
  }

  @Test
  void define_symlinkInARootLeadingOut_isRefused() throws Exception {
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.createSymbolicLink(root.resolve("link"), outside);

    assertRefused(root.resolve("link").toString(), "a directory under");
    assertRefused(root.resolve("link/sub").toString(), "a directory under");
  }

  @Test
  void define_overTheAgentsState_isRefused() {
    assertRefused(data.toString(), "data directory");
    assertRefused(data.resolve("vms").toString(), "vms/");
    assertRefused(data.resolve("vms/web").toString(), "vms/");
    assertRefused(data.resolve("cache").toString(), "cache/");
    var wide = Pools.load(data, "h1", new PoolRoots(List.of(tmp), data));
    assertThatThrownBy(() -> wide.define("all", tmp.toString(), false)).hasMessageContaining("data directory");
  }

  @Test
  void roots_theFileSystemRoot_isNoRoot() {
    assertThatThrownBy(() -> new PoolRoots(List.of(Path.of("/")), data)).hasMessageContaining("file system root");
  }

  @Test
  void load_poolOutsideTheRootsFromAnEarlierConfiguration_isNotServed() {
    var wide = Pools.load(data, "h1", new PoolRoots(List.of(tmp), data));
    wide.define("old", tmp.resolve("old").toString(), false);
    wide.define("ok", root.resolve("ok").toString(), false);

    Pools narrowed = Pools.load(data, "h1", new PoolRoots(List.of(root), data));

    assertThat(narrowed.all()).extracting(Pool::name).containsExactly("ok");
  }

  @Test
  void requireSpace_moreThanTheFileSystemHolds_isInsufficientNamingFieldAndFreeSpace() {
    pools.define("local", root.resolve("local").toString(), false);
    Pool pool = pools.get("local");

    assertThatThrownBy(() -> pools.requireSpace("size_bytes", pool, 1L << 60))
        .isInstanceOfSatisfying(AgentException.class, e -> {
          assertThat(e.kind()).isEqualTo(AgentException.Kind.INSUFFICIENT);
          assertThat(e.kind().status()).isEqualTo(409);
          assertThat(e.field()).isEqualTo("size_bytes");
          assertThat(e.value()).isEqualTo(Long.toString(1L << 60));
          assertThat(e.allowed()).contains("free space of pool local");
        });
    pools.requireSpace("size_bytes", pool, 1 << 20);
  }

  private void assertRefused(String path, String allowedContains) {
    assertThatThrownBy(() -> pools.define("p", path, false))
        .as(path)
        .isInstanceOfSatisfying(AgentException.class, e -> {
          assertThat(e.kind()).isEqualTo(AgentException.Kind.INVALID);
          assertThat(e.field()).isEqualTo("path");
          assertThat(e.value()).isEqualTo(path);
          assertThat(e.allowed()).contains(allowedContains);
        });
    assertThat(pools.find("p")).as(path).isEmpty();
  }
}
