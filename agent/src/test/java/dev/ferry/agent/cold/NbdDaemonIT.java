package dev.ferry.agent.cold;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.nbd.NbdAddress;
import dev.ferry.nbd.copy.NbdTarget;
import dev.ferry.nbd.copy.RawFileTarget;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A writer daemon as a cold copy into qcow2 runs it: past the page cache, with its allocator's
 * tunables, taking the copier's 2 MiB writes; what it wrote reads back the same through QEMU.
 */
class NbdDaemonIT {

  private static final Path QSD = Path.of("/usr/bin/qemu-storage-daemon");

  @TempDir
  Path dir;

  @Test
  void directWriter_takesLargeWrites_andHasTheTunables() throws Exception {
    assumeTrue(Files.isExecutable(QSD), "no qemu-storage-daemon");
    Path image = dir.resolve("disk.qcow2");
    Process made = new ProcessBuilder("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), "64M")
        .redirectErrorStream(true).start();
    assertThat(made.waitFor()).isZero();
    assertThat(RawFileTarget.directWrites(image)).as("this build directory's file system takes O_DIRECT").isTrue();
    Path socket = dir.resolve("w.sock");
    Path pidFile = dir.resolve("w.pid");
    List<String> cmd = NbdDaemon.serve(QSD, pidFile, new NbdDaemon.Listen.Unix(socket),
        List.of(new NbdDaemon.Image("disk", image, "qcow2", true, true)), null);
    assertThat(cmd).anyMatch(a -> a.startsWith("driver=file,") && a.endsWith(",cache.direct=on"));
    Process p = NbdDaemon.start(cmd, new NbdDaemon.Listen.Unix(socket), dir.resolve("w.log"));
    try {
      String environ = Files.readString(Path.of("/proc", Long.toString(p.pid()), "environ"), StandardCharsets.UTF_8);
      // glibc's loader cuts the variable at each ':' in place as it parses it
      assertThat(environ).contains("GLIBC_TUNABLES=" + NbdDaemon.MALLOC_TUNABLES.replace(':', '\0'));

      ByteBuffer data = ByteBuffer.allocateDirect(2 << 20);
      for (int i = 0; i < data.capacity(); i++) data.put(i, (byte) (i * 31 + 7));
      try (NbdTarget t = NbdTarget.local(NbdAddress.unix(socket), "disk", 2 << 20)) {
        t.write(4 << 20, data.duplicate());
        t.flush();
      }
    } finally {
      NbdDaemon.stop(p.pid(), pidFile);
    }
    Path expected = dir.resolve("expected.raw");
    byte[] raw = new byte[64 << 20];
    for (int i = 0; i < (2 << 20); i++) raw[(4 << 20) + i] = (byte) (i * 31 + 7);
    Files.write(expected, raw);
    Process cmp = new ProcessBuilder("qemu-img", "compare", "-q", "-f", "qcow2", "-F", "raw", image.toString(),
        expected.toString()).redirectErrorStream(true).start();
    String out = new String(cmp.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(cmp.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(cmp.exitValue()).as("qemu-img compare: %s", out).isZero();
  }
}
