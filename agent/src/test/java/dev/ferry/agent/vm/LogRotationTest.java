package dev.ferry.agent.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Console and QEMU logs stay under their cap while a writer that keeps its file open appends to them. */
class LogRotationTest {

  @TempDir Path data;

  static long total(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().contains(".log")).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  /**
   * A chatty guest: 8 MiB of console lines through one O_APPEND descriptor held open the whole
   * time, as QEMU holds it, with a 64 KiB cap and 2 copies kept.
   */
  @Test
  void chattyLog_keptOpenByItsWriter_staysUnderTheCapAndKeepsItsNewestLines() throws Exception {
    Path run = Files.createDirectories(data.resolve("vms/web/run"));
    Path console = run.resolve("console.log");
    LogCaps caps = new LogCaps(64 * 1024, 2);
    long written = 0;
    long largest = 0;
    try (LogRotation rotation = new LogRotation(data.resolve("vms"), caps).start(Duration.ofMillis(20));
        OutputStream out = Files.newOutputStream(console, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
      for (int i = 0; written < 8L << 20; i++) {
        byte[] line = String.format("guest line %08d: the quick brown fox jumps over the lazy dog%n", i)
            .getBytes(StandardCharsets.UTF_8);
        out.write(line);
        written += line.length;
        if (i % 200 == 0) {
          out.flush();
          Thread.sleep(1); // ~12 KiB per ms: a rotation period of 20 ms sees at most a few hundred KiB
          largest = Math.max(largest, total(run));
        }
      }
      out.flush();
      Thread.sleep(200);
    }
    assertThat(written).isGreaterThan(100L * caps.maxBytes());
    // the live file, .1 and .2, each at most the cap plus one period's writes; never all of the 8 MiB
    assertThat(largest).as("largest total of console.log and its copies while writing").isLessThan(3 * caps.maxBytes() + (1L << 20));
    assertThat(Files.exists(LogRotation.numbered(console, 1))).isTrue();
    assertThat(Files.exists(LogRotation.numbered(console, 3))).isFalse();
    // no hole of zeros after a truncate: the writer's O_APPEND puts its next line at the new start
    String now = Files.readString(console);
    assertThat(now).doesNotContain("\0");
    assertThat(Files.readString(LogRotation.numbered(console, 1))).doesNotContain("\0").endsWith("\n");
  }

  @Test
  void rotate_underTheCap_leavesTheFileAlone() throws Exception {
    Path log = Files.writeString(data.resolve("qemu.log"), "short\n");

    assertThat(LogRotation.rotate(log, new LogCaps(4096, 3))).isFalse();
    assertThat(Files.readString(log)).isEqualTo("short\n");
  }

  @Test
  void rotate_overTheCap_shiftsCopiesAndDropsTheOldest() throws Exception {
    Path log = data.resolve("qemu.log");
    LogCaps caps = new LogCaps(4096, 2);
    for (String round : new String[] {"a", "b", "c"}) {
      Files.writeString(log, round.repeat(5000));
      assertThat(LogRotation.rotate(log, caps)).isTrue();
    }
    assertThat(Files.size(log)).isZero();
    assertThat(Files.readString(LogRotation.numbered(log, 1))).startsWith("c");
    assertThat(Files.readString(LogRotation.numbered(log, 2))).startsWith("b");
    assertThat(Files.exists(LogRotation.numbered(log, 3))).isFalse();
  }

  @Test
  void rotate_keepZero_truncatesOnly() throws Exception {
    Path log = Files.writeString(data.resolve("console.log"), "x".repeat(5000));

    assertThat(LogRotation.rotate(log, new LogCaps(4096, 0))).isTrue();
    assertThat(Files.size(log)).isZero();
    assertThat(Files.exists(LogRotation.numbered(log, 1))).isFalse();
  }
}
