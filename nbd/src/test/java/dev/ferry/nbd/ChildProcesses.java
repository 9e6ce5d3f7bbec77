package dev.ferry.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The processes an IT starts (qemu-nbd, QEMU, qemu-img, nbdinfo): each registered by pid and
 * killed by that pid in {@link #close()}, its output kept in a log file for the failure message.
 */
final class ChildProcesses implements AutoCloseable {

  private final Path dir;
  private final List<Process> started = new ArrayList<>();

  ChildProcesses(Path dir) {
    this.dir = dir;
  }

  /** Skips the test when {@code program} is not installed. */
  static void assumeInstalled(String program) {
    boolean found = List.of(System.getenv().getOrDefault("PATH", "").split(":")).stream()
        .anyMatch(d -> Files.isExecutable(Path.of(d, program)));
    assumeTrue(found, program + " is not installed");
  }

  /** Starts a long-running process; its output goes to {@code NAME.log}. */
  Process start(String name, String... command) throws IOException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve(name + ".log").toFile()).start();
    started.add(process);
    return process;
  }

  /** Runs a short command to completion and returns its output; fails on a non-zero exit. */
  String run(String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    started.add(process);
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("%s finished", command[0]).isTrue();
    assertThat(process.exitValue()).as("exit status of %s: %s", List.of(command), output)
        .isZero();
    return output;
  }

  /** Waits for {@code socket} to appear, failing early if {@code process} exits. */
  void awaitSocket(Process process, Path socket, String name) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (!Files.exists(socket)) {
      if (!process.isAlive()) {
        throw new AssertionError(name + " exited with " + process.exitValue() + ": " + log(name));
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(name + " did not create " + socket + ": " + log(name));
      }
      Thread.sleep(20);
    }
  }

  String log(String name) throws IOException {
    Path file = dir.resolve(name + ".log");
    return Files.exists(file) ? Files.readString(file) : "";
  }

  /** Kills every process still alive, by its pid: SIGTERM, then SIGKILL after 5 s. */
  @Override
  public void close() {
    for (Process process : started) {
      if (process.isAlive()) {
        process.destroy();
        try {
          if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
          }
        } catch (InterruptedException e) {
          process.destroyForcibly();
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
