package dev.ferry.agent.qemu;

import java.util.Optional;

/**
 * The memory a VM asked for and the memory QEMU is given, with the reason when they differ.
 *
 * <p>Under TCG, QEMU 7.2 loses dirty pages during pre-copy when guest RAM is a multiple of 256
 * KiB: the fast bitmap-sync path does not re-arm TCG's write trap, and the guest panics on the
 * destination (shared/reference/qemu-notes.md). Taking 8 KiB off such a size gives 0 differing
 * pages. The guard applies where the bug was seen, TCG with QEMU 7.2, and nowhere else: KVM is
 * not affected, and a VM on a host that is (under KVM, or another QEMU) gets what it asked for.
 */
public record MemoryPlan(long requestedBytes, long givenBytes, Optional<String> adjustment) {

  static final long BUG_ALIGNMENT = 256 * 1024;
  static final long ADJUSTMENT = 8 * 1024;
  public MemoryPlan {
    if (requestedBytes <= 0 || givenBytes <= 0 || givenBytes > requestedBytes) {
      throw new IllegalArgumentException(
          "memory plan needs 0 < given <= requested, got requested=" + requestedBytes + " given=" + givenBytes);
    }
  }

  /** QEMU's {@code -m} argument; always whole KiB. */
  public String qemuArgument() {
    return (givenBytes / 1024) + "k";
  }

  public boolean adjusted() {
    return givenBytes != requestedBytes;
  }

  public static MemoryPlan plan(long requestedBytes, Accelerator accelerator, QemuVersion version) {
    if (requestedBytes < 16L * 1024 * 1024 || requestedBytes % 4096 != 0) {
      throw new IllegalArgumentException(
          "memory must be a multiple of 4 KiB and at least 16 MiB, got " + requestedBytes + " bytes");
    }
    if (!loosesDirtyPages(accelerator, version) || requestedBytes % BUG_ALIGNMENT != 0) {
      return new MemoryPlan(requestedBytes, requestedBytes, Optional.empty());
    }
    long given = requestedBytes - ADJUSTMENT;
    String why = "qemu " + version + " under tcg loses dirty pages during migration when guest memory is a"
        + " multiple of 256 KiB; giving " + (given / 1024) + " KiB instead of " + (requestedBytes / 1024) + " KiB";
    return new MemoryPlan(requestedBytes, given, Optional.of(why));
  }

  static boolean loosesDirtyPages(Accelerator accelerator, QemuVersion version) {
    return accelerator == Accelerator.TCG && version.major() == 7 && version.minor() == 2;
  }
}
