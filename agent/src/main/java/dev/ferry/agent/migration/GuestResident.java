package dev.ferry.agent.migration;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * How much of a guest's RAM its QEMU process holds in memory: the resident size of the mapping
 * that is the guest's RAM ({@code /proc/PID/smaps}, the mapping exactly as large as the memory
 * QEMU was given). A page the guest never touched was never faulted in; pre-copy finds it zero and
 * sends a few bytes for it instead of 4 KiB, so the first pass of a mostly empty guest moves far
 * less than its RAM (the live bench's idle 256 MiB guest: 93 MiB sent). The prediction sends the
 * resident part at the link's speed. A page the guest zeroed after use counts as resident (QEMU
 * then finds it zero too): the figure errs towards the full RAM, never below what is sent.
 */
final class GuestResident {

  private GuestResident() {}

  /** The guest RAM's resident bytes of QEMU process {@code pid}; empty when it cannot be read. */
  static OptionalLong of(long pid, long memoryGivenBytes) {
    try {
      return of(Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps")), memoryGivenBytes);
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }

  /** The same from smaps' lines: the Rss of the first mapping whose Size is the given memory. */
  static OptionalLong of(List<String> smaps, long memoryGivenBytes) {
    long wantKib = memoryGivenBytes >> 10;
    boolean inGuestRam = false;
    for (String line : smaps) {
      if (line.startsWith("Size:")) {
        inGuestRam = kib(line) == wantKib;
      } else if (inGuestRam && line.startsWith("Rss:")) {
        return OptionalLong.of(kib(line) << 10);
      }
    }
    return OptionalLong.empty();
  }

  private static long kib(String line) {
    String[] f = line.trim().split("\\s+");
    return Long.parseLong(f[1]);
  }
}
