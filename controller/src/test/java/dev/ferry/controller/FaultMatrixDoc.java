package dev.ferry.controller;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * When docs/faults.md is rewritten: after a matrix class, from every cell recorded so far, and only
 * once every matrix class recorded all its cells, so a partial or failing run never replaces the
 * committed document (it still writes target/faults.md to look at).
 */
final class FaultMatrixDoc {

  /** The matrix classes whose every {@code @Test} records one cell. */
  static final List<Class<?>> ONE_CELL_PER_TEST = List.of(LiveAgentDeathFaultMatrixTest.class,
      LiveQemuDeathFaultMatrixTest.class, LiveLinkAndDiskFaultMatrixTest.class,
      StorageAgentAndQemuFaultMatrixTest.class, StorageDiskFullFaultMatrixTest.class, ColdFaultMatrixTest.class,
      WarmFaultMatrixTest.class);

  /**
   * Cells the matrix classes record in a full green run: one per parameter of the live and
   * storage controller-death tables and of the three cold and three warm per-phase tables
   * (controller, source agent, target agent death) and of warm's source QEMU and staged target
   * QEMU death before the hand-over, the live full-disk cell, and one per
   * {@code @Test} of the others.
   */
  static final int EXPECTED = FaultMatrixTest.LiveCell.values().length + 1 + StorageFaultMatrixTest.StorageCell.values().length
      + 3 * ColdFaultMatrixTest.ColdCell.values().length + 3 * WarmFaultMatrixTest.WarmCell.values().length
      + WarmFaultMatrixTest.SOURCE_QEMU_CELLS + WarmFaultMatrixTest.STAGED_QEMU_CELLS
      + ONE_CELL_PER_TEST.stream().mapToInt(FaultMatrixDoc::tests).sum();
  static final Path DOC = Path.of("..", "docs", "faults.md");

  private FaultMatrixDoc() {}

  private static int tests(Class<?> matrix) {
    return (int) Arrays.stream(matrix.getDeclaredMethods()).filter(m -> m.isAnnotationPresent(Test.class)).count();
  }

  /** Forgets the cells an earlier run of one matrix class recorded. */
  static void clear(Class<?> matrix) throws Exception {
    if (!Files.isDirectory(FaultCell.DIR)) return;
    String prefix = matrix.getSimpleName() + ".";
    try (var files = Files.list(FaultCell.DIR)) {
      for (Path p : files.filter(f -> f.toString().endsWith(".tsv")).toList()) {
        String[] f;
        try {
          f = Files.readString(p, StandardCharsets.UTF_8).split("\t", -1);
        } catch (NoSuchFileException e) {
          continue; // the other test JVM (surefire forks) cleared its own class's cell
        }
        if (f.length > 3 && f[3].startsWith(prefix)) Files.delete(p);
      }
    }
  }

  static void writeIfComplete() throws Exception {
    List<FaultCell> recorded = FaultCell.recorded();
    FaultsDoc.write(recorded, Path.of("target", "faults.md"));
    if (recorded.size() == EXPECTED && Files.isDirectory(DOC.getParent())) FaultsDoc.write(recorded, DOC);
  }
}
