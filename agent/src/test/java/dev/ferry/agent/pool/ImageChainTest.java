package dev.ferry.agent.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.Subprocess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a qcow2 header names must lie in a pool too; built with the real qemu-img. */
class ImageChainTest {

  static final Path QEMU_IMG = Path.of("/usr/bin/qemu-img");

  @TempDir Path tmp;
  Path pool;
  Path other;
  Pools pools;

  @BeforeEach
  void setUp() throws Exception {
    pool = tmp.resolve("pool");
    other = Files.createDirectories(tmp.resolve("other"));
    pools = Pools.load(tmp, "h1", new PoolRoots(List.of(tmp), tmp));
    pools.define("local", pool.toString(), false);
    pools.define("base", tmp.resolve("base").toString(), false);
  }

  @Test
  void chain_allLayersInPools_listsEveryFile() throws Exception {
    Path base = img("create", "-q", "-f", "raw", tmp.resolve("base/base.raw").toString(), "1M");
    Path mid = img("create", "-q", "-f", "qcow2", "-F", "raw", "-b", base.toString(), pool.resolve("mid.qcow2").toString());
    // relative backing names resolve against the image's directory, as QEMU does
    Path top = img("create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", "mid.qcow2", pool.resolve("top.qcow2").toString());

    List<Path> files = ImageChain.require("disks[0].path", top.toRealPath(), "qcow2", pools, QEMU_IMG);

    assertThat(files).containsExactly(top.toRealPath(), mid.toRealPath(), base.toRealPath());
  }

  /** The trick of issue 10: a qcow2 in a pool whose backing file is any host file. */
  @Test
  void chain_backingFileOutsidePools_isRefusedNamingTheBackingFile() throws Exception {
    Path secret = Files.writeString(other.resolve("secret"), "not for guests");
    Path evil = img("create", "-q", "-f", "qcow2", "-F", "raw", "-b", secret.toString(), pool.resolve("evil.qcow2").toString());

    assertRefused(evil, "backing file (layer 1) '" + secret + "'");
  }

  @Test
  void chain_outsideLayerDeeperDown_isRefusedNamingThatLayer() throws Exception {
    Path secret = Files.writeString(other.resolve("secret"), "x".repeat(4096));
    Path mid = img("create", "-q", "-f", "qcow2", "-F", "raw", "-b", secret.toString(), pool.resolve("mid.qcow2").toString());
    Path top = img("create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", mid.toString(), pool.resolve("top.qcow2").toString());

    assertRefused(top, "backing file (layer 2) '" + secret + "', named by " + mid.toRealPath());
  }

  @Test
  void chain_symlinkInPoolToOutside_isRefused() throws Exception {
    Path secret = Files.writeString(other.resolve("secret"), "x");
    Files.createSymbolicLink(pool.resolve("innocent.raw"), secret);
    Path evil = img("create", "-q", "-f", "qcow2", "-F", "raw", "-b", pool.resolve("innocent.raw").toString(),
        pool.resolve("evil.qcow2").toString());

    assertRefused(evil, "innocent.raw");
  }

  @Test
  void chain_dataFileOutsidePools_isRefusedNamingIt() throws Exception {
    Path data = other.resolve("data.raw");
    Path evil = img("create", "-q", "-f", "qcow2", "-o", "data_file=" + data, pool.resolve("evil.qcow2").toString(), "1M");

    assertRefused(evil, "data file '" + data + "'");
  }

  @Test
  void chain_relativeDataFile_isRefused() throws Exception {
    Path evil = img("create", "-q", "-f", "qcow2", "-o", "data_file=data.raw", pool.resolve("evil.qcow2").toString(), "1M");

    assertRefused(evil, "is not an absolute path");
  }

  @Test
  void chain_dataFileInPool_isAccepted() throws Exception {
    Path data = pool.resolve("data.raw");
    Path good = img("create", "-q", "-f", "qcow2", "-o", "data_file=" + data, pool.resolve("good.qcow2").toString(), "1M");

    assertThat(ImageChain.require("disks[0].path", good.toRealPath(), "qcow2", pools, QEMU_IMG)).contains(data.toRealPath());
  }

  @Test
  void chain_rawTopLayer_isNeverParsedAsQcow2() throws Exception {
    // a raw disk whose guest wrote a qcow2 header naming a host file: QEMU opens it raw, so nothing is followed
    Path secret = Files.writeString(other.resolve("secret"), "x");
    Path evil = img("create", "-q", "-f", "qcow2", "-F", "raw", "-b", secret.toString(), pool.resolve("disk.raw").toString());

    assertThat(ImageChain.require("disks[0].path", evil.toRealPath(), "raw", pools, QEMU_IMG)).containsExactly(evil.toRealPath());
  }

  private void assertRefused(Path image, String detail) throws Exception {
    Path real = image.toRealPath();
    assertThatThrownBy(() -> ImageChain.require("disks[0].path", real, "qcow2", pools, QEMU_IMG))
        .isInstanceOfSatisfying(AgentException.class, e -> {
          assertThat(e.kind()).isEqualTo(AgentException.Kind.INVALID);
          assertThat(e.field()).isEqualTo("disks[0].path");
          assertThat(e.value()).isEqualTo(real.toString());
          assertThat(e.allowed()).contains("every backing layer and data file lies inside one of the pools").contains(detail);
        });
  }

  private static Path img(String... args) {
    var cmd = new ArrayList<String>();
    cmd.add(QEMU_IMG.toString());
    cmd.addAll(List.of(args));
    Subprocess.run(cmd, Duration.ofSeconds(30)).requireOk();
    String[] a = args;
    int pathAt = a[a.length - 1].startsWith("/") ? a.length - 1 : a.length - 2;
    return Path.of(a[pathAt]);
  }
}
