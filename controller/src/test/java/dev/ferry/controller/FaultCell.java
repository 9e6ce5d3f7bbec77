package dev.ferry.controller;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One cell of the fault matrix of docs/faults.md: a phase of a migration kind under one fault,
 * the test that proved it, at which level, and what happened. Cells proven by a run are written
 * one file each under {@code target/faults/}, so the document is built from what actually passed.
 */
record FaultCell(String kind, String phase, Fault fault, String test, Level level, String outcome) {

  static final Path DIR = Path.of("target", "faults");

  /** The faults of issue 9's matrix (and issue 13's refusing guest), as the controller sees each one. */
  enum Fault {
    CONTROLLER("controller death"),
    SOURCE_AGENT("source agent death"),
    TARGET_AGENT("target agent death"),
    SOURCE_QEMU("source QEMU death"),
    TARGET_QEMU("target QEMU death"),
    LINK("link cut"),
    DISK_FULL("full disk"),
    /** the guest ignores the ACPI power button (cold with --shutdown, warm at the cutover) */
    GUEST_REFUSES("guest refuses to power off");

    final String title;

    Fault(String title) {
      this.title = title;
    }
  }

  /** How a cell was proven: against scripted agents, or with real QEMU processes. */
  enum Level {
    SCRIPTED("scripted agents"),
    REAL_QEMU("real QEMU"),
    /** the fault cannot happen in the phase; the outcome says why */
    NOT_APPLICABLE("n/a");

    final String title;

    Level(String title) {
      this.title = title;
    }
  }

  FaultCell {
    for (String f : new String[] {kind, phase, test, outcome}) {
      if (f == null || f.contains("\t") || f.contains("\n")) throw new IllegalArgumentException("bad cell field: " + f);
    }
  }

  /** Records a cell proven by the run that is under way. */
  void record() {
    try {
      Files.createDirectories(DIR);
      String file = (kind + "-" + phase + "-" + fault + "-" + test).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_");
      // written aside and moved in: the other test JVM (surefire forks) may be reading the directory
      Path part = Files.createTempFile(DIR, file, ".part");
      Files.writeString(part, String.join("\t", kind, phase, fault.name(), test, level.name(), outcome),
          StandardCharsets.UTF_8);
      Files.move(part, DIR.resolve(file + ".tsv"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every cell recorded under {@link #DIR}. */
  static List<FaultCell> recorded() throws IOException {
    List<FaultCell> out = new ArrayList<>();
    if (!Files.isDirectory(DIR)) return out;
    try (var files = Files.list(DIR)) {
      for (Path p : files.filter(f -> f.toString().endsWith(".tsv")).sorted().toList()) {
        String[] f;
        try {
          f = Files.readString(p, StandardCharsets.UTF_8).split("\t", -1);
        } catch (NoSuchFileException e) {
          continue; // a stale cell the other test JVM's class just cleared
        }
        out.add(new FaultCell(f[0], f[1], Fault.valueOf(f[2]), f[3], Level.valueOf(f[4]), f[5]));
      }
    }
    return out;
  }
}
