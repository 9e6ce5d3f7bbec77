package dev.ferry.agent.migration;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.agent.vm.VmHandle;
import dev.ferry.api.agent.MemoryDigest;
import dev.ferry.qmp.machine.Pmemsave;
import dev.ferry.qmp.machine.QueryStatus;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;

/**
 * Page digests of a paused guest's RAM, for comparing a migration's source ({@code postmigrate})
 * and target (paused, not yet finished) page by page: the guest's own memory checks catch lost
 * workload pages, only this catches lost kernel pages (qemu-notes). QEMU writes the RAM with
 * {@code pmemsave} into the VM's run directory; the file is deleted after digesting.
 */
final class MemoryDigests {

  static final int PAGE = 4096;
  static final String ALGORITHM = "crc32c+crc32";

  private MemoryDigests() {}

  static MemoryDigest digest(VmHandle vm) {
    QemuProcess p = vm.process().orElseThrow(() -> new AgentException(Kind.CONFLICT, "vm " + vm.name() + " has no qemu"));
    var q = new Qmp(p.qmp());
    QueryStatus.StatusInfo rs = q.runState();
    if (rs.running()) {
      throw new AgentException(Kind.CONFLICT, "vm " + vm.name() + " is running; only a paused guest's memory can be compared");
    }
    long size = vm.status().memoryGivenBytes();
    Path dump = vm.runDir().dir().resolve("memory-" + System.nanoTime() + ".dump");
    try {
      q.call(new Pmemsave(0, size, dump), Duration.ofMinutes(5));
      return new MemoryDigest(vm.name(), size, PAGE, ALGORITHM, Base64.getEncoder().encodeToString(pages(dump, size)));
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot read memory dump " + dump + ": " + e.getMessage(), e);
    } finally {
      try {
        Files.deleteIfExists(dump);
      } catch (IOException e) {
        // a leftover dump in the run directory is removed with the vm
      }
    }
  }

  private static byte[] pages(Path dump, long size) throws IOException {
    int count = (int) ((size + PAGE - 1) / PAGE);
    ByteBuffer out = ByteBuffer.allocate(count * 8);
    byte[] page = new byte[PAGE];
    var c1 = new CRC32C();
    var c2 = new CRC32();
    try (InputStream in = Files.newInputStream(dump)) {
      for (int i = 0; i < count; i++) {
        int n = in.readNBytes(page, 0, PAGE);
        if (n < PAGE) java.util.Arrays.fill(page, n, PAGE, (byte) 0);
        c1.reset();
        c2.reset();
        c1.update(page, 0, PAGE);
        c2.update(page, 0, PAGE);
        out.putInt((int) c1.getValue()).putInt((int) c2.getValue());
      }
    }
    return out.array();
  }
}
