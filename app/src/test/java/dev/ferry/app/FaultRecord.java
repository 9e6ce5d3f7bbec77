package dev.ferry.app;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One cell of the fault matrix (issue 9: phase × fault → outcome), appended by a fault test once
 * its end state was checked, to {@code target/fault-matrix.tsv} of the module; a generator turns
 * the file of a test run into docs/faults.md. A cell is written only by a test that passed its
 * assertions up to that point, so the matrix never claims what was not shown.
 */
final class FaultRecord {

  private FaultRecord() {}

  /** @param clusterDir unused today; kept so a record can later point at the run's logs */
  static void write(Path clusterDir, String phase, String fault, String outcome) {
    String test = StackWalker.getInstance().walk(s -> s.skip(1).findFirst()
        .map(f -> f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1) + "." + f.getMethodName())
        .orElse("?"));
    Path file = Path.of("target", "fault-matrix.tsv");
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, String.join("\t", phase, fault, outcome, test) + "\n", StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new AssertionError("cannot record the fault matrix cell in " + file.toAbsolutePath(), e);
    }
  }
}
