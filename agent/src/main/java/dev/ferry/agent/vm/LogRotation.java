package dev.ferry.agent.vm;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Caps every VM's {@code console.log} and {@code qemu.log} ({@code DATA/vms/NAME/run/}): a log past
 * {@code maxBytes} is copied to {@code NAME.1} (older copies shift to {@code .2} … {@code .keep},
 * the oldest is dropped) and truncated in place. Copy-and-truncate, because QEMU holds both files
 * open for its whole life and cannot be told to reopen them; both are opened with
 * {@code O_APPEND} (chardev {@code append=on}, and the agent's redirect of QEMU's output), so
 * QEMU's next write lands at the start of the truncated file instead of leaving a hole. What QEMU
 * writes between the copy and the truncate (microseconds) is lost; a log exceeds its cap by at most
 * what is written in one {@link #PERIOD}.
 */
public final class LogRotation implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LogRotation.class);
  static final Duration PERIOD = Duration.ofSeconds(1);
  static final List<String> LOGS = List.of("console.log", "qemu.log");

  private final Path vmsRoot;
  private final LogCaps caps;
  private final ScheduledExecutorService executor;

  public LogRotation(Path vmsRoot, LogCaps caps) {
    this.vmsRoot = vmsRoot;
    this.caps = caps;
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "ferry-log-rotation");
      t.setDaemon(true);
      return t;
    });
  }

  public LogRotation start() {
    return start(PERIOD);
  }

  LogRotation start(Duration period) {
    executor.scheduleWithFixedDelay(() -> {
      try {
        rotateAll();
      } catch (RuntimeException e) {
        log.warn("log rotation failed: {}", e.toString());
      }
    }, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  /** One pass over every VM's logs. */
  void rotateAll() {
    if (!Files.isDirectory(vmsRoot)) return;
    try (DirectoryStream<Path> vms = Files.newDirectoryStream(vmsRoot)) {
      for (Path vm : vms) {
        for (String name : LOGS) {
          Path file = vm.resolve("run").resolve(name);
          try {
            rotate(file, caps);
          } catch (IOException e) {
            log.warn("cannot rotate {}: {}", file, e.toString());
          }
        }
      }
    } catch (IOException e) {
      log.warn("cannot list {}: {}", vmsRoot, e.toString());
    }
  }

  /** Rotates {@code file} when it is larger than the cap; true when it did. */
  static boolean rotate(Path file, LogCaps caps) throws IOException {
    long size;
    try {
      size = Files.size(file);
    } catch (NoSuchFileException e) {
      return false;
    }
    if (size <= caps.maxBytes()) return false;
    if (caps.keep() > 0) {
      Files.deleteIfExists(numbered(file, caps.keep()));
      for (int i = caps.keep() - 1; i >= 1; i--) {
        Path from = numbered(file, i);
        if (Files.exists(from)) Files.move(from, numbered(file, i + 1), StandardCopyOption.REPLACE_EXISTING);
      }
      // COPY_ATTRIBUTES: the copy stays as private as the log (0600, the QEMU user's), whatever the umask
      Files.copy(file, numbered(file, 1), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(0);
    }
    log.debug("rotated {} at {} bytes (cap {}, keep {})", file, size, caps.maxBytes(), caps.keep());
    return true;
  }

  static Path numbered(Path file, int n) {
    return file.resolveSibling(file.getFileName() + "." + n);
  }

  @Override
  public void close() {
    executor.shutdownNow();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
