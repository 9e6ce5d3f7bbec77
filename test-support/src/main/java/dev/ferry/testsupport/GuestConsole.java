package dev.ferry.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Reads a guest's serial console log as the workload's reports. Waiting polls the file: the log
 * is written by QEMU, and the guest's lines arrive once a second at the fastest.
 */
public final class GuestConsole {

  private final List<Path> logs;

  /** One or more console logs of the same guest, in the order it ran on them (source, then target). */
  public GuestConsole(Path... logs) {
    this.logs = List.of(logs);
  }

  public List<String> rawLines() {
    var out = new ArrayList<String>();
    for (Path p : logs) {
      if (!Files.exists(p)) continue;
      try {
        byte[] bytes = Files.readAllBytes(p);
        new String(bytes, StandardCharsets.UTF_8).lines().forEach(out::add);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  public List<GuestLine> lines() {
    return rawLines().stream().map(GuestLine::parse).flatMap(Optional::stream).toList();
  }

  public <T extends GuestLine> List<T> lines(Class<T> kind) {
    return lines().stream().filter(kind::isInstance).map(kind::cast).toList();
  }

  /** Waits until a line of the given kind matches, and returns it; fails with the console's tail. */
  public <T extends GuestLine> T await(Class<T> kind, Predicate<T> match, Duration timeout) {
    long until = System.nanoTime() + timeout.toNanos();
    while (true) {
      Optional<T> hit = lines(kind).stream().filter(match).findFirst();
      if (hit.isPresent()) return hit.get();
      if (System.nanoTime() > until) {
        throw new AssertionError("no " + kind.getSimpleName() + " line matched within " + timeout
            + "; console tail:\n" + tail(15));
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      }
    }
  }

  public <T extends GuestLine> T await(Class<T> kind, Duration timeout) {
    return await(kind, l -> true, timeout);
  }

  /** The newest heartbeat, or empty before the first. */
  public Optional<GuestLine.Heartbeat> lastHeartbeat() {
    List<GuestLine.Heartbeat> hb = lines(GuestLine.Heartbeat.class);
    return hb.isEmpty() ? Optional.empty() : Optional.of(hb.getLast());
  }

  /** Waits for a heartbeat with a sequence number above {@code seq}. */
  public GuestLine.Heartbeat awaitHeartbeatAfter(long seq, Duration timeout) {
    return await(GuestLine.Heartbeat.class, h -> h.seq() > seq, timeout);
  }

  /**
   * Fails unless every memory and disk self-check the guest reported passed: no error lines, and
   * every status line says errors=0.
   */
  public void assertClean() {
    List<String> bad = rawLines().stream().filter(l -> {
      var parsed = GuestLine.parse(l);
      if (parsed.isEmpty()) return false;
      return switch (parsed.get()) {
        case GuestLine.MemError e -> true;
        case GuestLine.DiskError e -> true;
        case GuestLine.MemStatus m -> m.errors() != 0;
        case GuestLine.DiskStatus d -> d.errors() != 0;
        default -> false;
      };
    }).toList();
    if (!bad.isEmpty()) {
      throw new AssertionError("the guest's self-checks failed " + bad.size() + " times, first:\n"
          + String.join("\n", bad.subList(0, Math.min(10, bad.size()))));
    }
  }

  public String tail(int n) {
    List<String> all = rawLines();
    return String.join("\n", all.subList(Math.max(0, all.size() - n), all.size()));
  }
}
