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

class PathGuardTest {

  @TempDir Path tmp;
  Path poolDir;
  List<Pool> pools;

  @BeforeEach
  void pool() throws Exception {
    poolDir = Files.createDirectories(tmp.resolve("pool"));
    pools = List.of(new Pool("local", poolDir, false));
    Files.writeString(tmp.resolve("secret"), "outside");
  }

  @Test
  void require_fileInsidePool_returnsRealPath() throws Exception {
    Path kernel = Files.writeString(poolDir.resolve("vmlinuz"), "k");

    assertThat(PathGuard.require("kernel", kernel.toString(), pools)).isEqualTo(kernel.toRealPath());
  }

  @Test
  void require_dotDotOutOfPool_isBadInputNamingField() {
    String sneaky = poolDir + "/../secret";

    assertThatThrownBy(() -> PathGuard.require("kernel", sneaky, pools))
        .isInstanceOfSatisfying(AgentException.class, e -> {
          assertThat(e.kind()).isEqualTo(AgentException.Kind.INVALID);
          assertThat(e.field()).isEqualTo("kernel");
          assertThat(e.value()).isEqualTo(sneaky);
          assertThat(e.allowed()).contains("local (" + poolDir + ")");
        });
  }

  @Test
  void require_symlinkEscapingPool_isBadInput() throws Exception {
    Path link = Files.createSymbolicLink(poolDir.resolve("escape.qcow2"), tmp.resolve("secret"));

    assertThatThrownBy(() -> PathGuard.require("disks[0].path", link.toString(), pools))
        .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.field()).isEqualTo("disks[0].path"));
  }

  @Test
  void require_symlinkStayingInPool_returnsTarget() throws Exception {
    Path target = Files.writeString(poolDir.resolve("real.img"), "x");
    Path link = Files.createSymbolicLink(poolDir.resolve("alias.img"), target);

    assertThat(PathGuard.require("initrd", link.toString(), pools)).isEqualTo(target.toRealPath());
  }

  @Test
  void require_missingFile_isBadInputSayingItMustExist() {
    assertThatThrownBy(() -> PathGuard.require("initrd", poolDir + "/nope.img", pools))
        .isInstanceOfSatisfying(AgentException.class, e -> {
          assertThat(e.field()).isEqualTo("initrd");
          assertThat(e.allowed()).contains("existing file");
        });
  }

  @Test
  void require_relativePath_isBadInput() {
    assertThatThrownBy(() -> PathGuard.require("kernel", "pool/vmlinuz", pools))
        .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.allowed()).contains("absolute"));
  }

  @Test
  void require_poolDirectoryItself_isBadInput() {
    assertThatThrownBy(() -> PathGuard.require("kernel", poolDir.toString(), pools))
        .isInstanceOf(AgentException.class);
  }

  @Test
  void require_siblingWithPoolNameAsPrefix_isBadInput() throws Exception {
    Path sibling = Files.createDirectories(tmp.resolve("pool2"));
    Path file = Files.writeString(sibling.resolve("vmlinuz"), "k");

    assertThatThrownBy(() -> PathGuard.require("kernel", file.toString(), pools)).isInstanceOf(AgentException.class);
  }

  @Test
  void require_noPools_saysSo() throws Exception {
    Path kernel = Files.writeString(poolDir.resolve("vmlinuz"), "k");

    assertThatThrownBy(() -> PathGuard.require("kernel", kernel.toString(), List.of()))
        .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.allowed()).contains("no pools"));
  }
}
