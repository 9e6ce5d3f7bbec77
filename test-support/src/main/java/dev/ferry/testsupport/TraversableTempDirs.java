package dev.ferry.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.extension.AnnotatedElementContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDirFactory;

/**
 * {@code @TempDir}s that other users may pass through (0711) but not list. A root agent runs QEMU
 * as the unprivileged {@code ferry-qemu}, which must reach pools and run directories by path; the
 * default temporary directory (0700, root's) would stop it at the door. Named in each module's
 * {@code junit-platform.properties} as {@code junit.jupiter.tempdir.factory.default}.
 */
public final class TraversableTempDirs implements TempDirFactory {

  @Override
  public Path createTempDirectory(AnnotatedElementContext element, ExtensionContext context) throws IOException {
    Path dir = Files.createTempDirectory("junit-");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
    return dir;
  }
}
