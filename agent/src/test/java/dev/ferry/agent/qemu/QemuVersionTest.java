package dev.ferry.agent.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class QemuVersionTest {

  @Test
  void parse_debianVersionLine_readsAllParts() {
    var v = QemuVersion.parse("QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)\nCopyright (c) 2003-2022");

    assertThat(v).isEqualTo(new QemuVersion(7, 2, 19));
  }

  @Test
  void parse_noMicro_isZero() {
    assertThat(QemuVersion.parse("QEMU emulator version 8.2")).isEqualTo(new QemuVersion(8, 2, 0));
  }

  @Test
  void compareTo_ordersByMajorMinorMicro() {
    assertThat(new QemuVersion(7, 2, 19)).isLessThan(new QemuVersion(8, 0, 0)).isGreaterThan(new QemuVersion(7, 2, 1));
  }

  @Test
  void parse_garbage_namesTheLine() {
    assertThatThrownBy(() -> QemuVersion.parse("command not found")).hasMessageContaining("command not found");
  }
}
