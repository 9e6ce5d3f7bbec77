package dev.ferry.controller;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * When docs/faults.md is rewritten: after a matrix class, from every cell recorded so far, and only
 * once both matrix classes recorded all their cells, so a partial or failing run never replaces the
 * committed document (it still writes target/faults.md to look at).
 */
final class FaultMatrixDoc {

  /** Cells the two matrix classes record in a full green run (the live one adds the full-disk cell). */
  static final int EXPECTED = FaultMatrixTest.LiveCell.values().length + 1 + StorageFaultMatrixTest.StorageCell.values().length;
  static final Path DOC = Path.of("..", "docs", "faults.md");

  private FaultMatrixDoc() {}

  /** Forgets the cells of one kind that an earlier run recorded. */
  static void clear(String kind) throws Exception {
    if (!Files.isDirectory(FaultCell.DIR)) return;
    try (var files = Files.list(FaultCell.DIR)) {
      for (Path p : files.filter(f -> f.getFileName().toString().startsWith(kind + "_")).toList()) Files.delete(p);
    }
  }

  static void writeIfComplete() throws Exception {
    List<FaultCell> recorded = FaultCell.recorded();
    FaultsDoc.write(recorded, Path.of("target", "faults.md"));
    if (recorded.size() == EXPECTED && Files.isDirectory(DOC.getParent())) FaultsDoc.write(recorded, DOC);
  }
}
