package dev.ferry.agent;

import dev.ferry.agent.AgentException.Kind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a short helper program ({@code qemu-img}, {@code qemu-system-* -version}) with a deadline
 * that holds. The output goes to a temporary file, not a pipe read before waiting: a program that
 * hangs with its pipe open would keep such a read, and so the caller, waiting forever. On expiry
 * the whole process tree is killed, and the error says what ran, for how long, and what it wrote.
 */
public final class Subprocess {

  /** What a finished program did; {@code out} is stdout and stderr together, stripped. */
  public record Result(List<String> cmd, int exit, String out) {
    public Result requireOk() {
      if (exit != 0) throw new AgentException(Kind.UNAVAILABLE, commandLine(cmd) + " failed (exit " + exit + "): " + out);
      return this;
    }
  }

  private Subprocess() {}

  /** Runs {@code cmd} to its end, or kills it and its children after {@code timeout}. */
  public static Result run(List<String> cmd, Duration timeout) {
    Path out;
    try {
      out = Files.createTempFile("ferry-subprocess-", ".out");
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot create a temporary file for " + commandLine(cmd) + ": "
          + e.getMessage(), e);
    }
    long t0 = System.nanoTime();
    Process p = null;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        killTree(p);
        throw new AgentException(Kind.UNAVAILABLE, commandLine(cmd) + " (pid " + p.pid() + ") did not finish within "
            + timeout.toMillis() + " ms and was killed; its output: " + read(out));
      }
      return new Result(List.copyOf(cmd), p.exitValue(), read(out));
    } catch (IOException e) {
      throw new AgentException(Kind.UNAVAILABLE, "cannot run " + commandLine(cmd) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      killTree(p);
      Thread.currentThread().interrupt();
      throw new AgentException(Kind.INTERNAL, "interrupted after " + (System.nanoTime() - t0) / 1_000_000
          + " ms running " + commandLine(cmd), e);
    } finally {
      try {
        Files.deleteIfExists(out);
      } catch (IOException e) {
        // a leftover temporary file is harmless; the result matters more
      }
    }
  }

  private static void killTree(Process p) {
    if (p == null) return;
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    try {
      p.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String read(Path out) {
    try {
      return Files.readString(out, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      return "(output unreadable: " + e.getMessage() + ")";
    }
  }

  static String commandLine(List<String> cmd) {
    return String.join(" ", cmd);
  }
}
