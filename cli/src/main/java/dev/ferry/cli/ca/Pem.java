package dev.ferry.cli.ca;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Set;

/**
 * PEM text and the file modes of key material: directories 0700, keys 0600, certificates 0644.
 * A file is written under a temporary name with its final mode already set and then renamed, so
 * a key is never readable by others, not even for a moment, and never half written.
 */
final class Pem {

  static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");
  static final Set<PosixFilePermission> SECRET = PosixFilePermissions.fromString("rw-------");
  static final Set<PosixFilePermission> PUBLIC = PosixFilePermissions.fromString("rw-r--r--");

  private Pem() {}

  static String encode(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  /** Creates {@code dir} (and parents) and makes it 0700. */
  static Path privateDir(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, DIR);
    return dir;
  }

  static void write(Path file, String text, Set<PosixFilePermission> mode) throws IOException {
    Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(mode));
    Files.writeString(tmp, text);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
