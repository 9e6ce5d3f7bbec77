package dev.ferry.api.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;

/**
 * Secrets (tokens, credentials, database passwords) live in files only their owner can read,
 * never on a command line. A file others can read, or write, is refused on load: the secret may
 * already be known, and the message says how to fix it.
 */
public final class SecretFile {

  /** What {@link #read} accepts: the owner may read (and write); group and others nothing. */
  public static final String ALLOWED = "0600 or 0400 (owner only)";

  private static final Set<PosixFilePermission> OWNER_ONLY =
      EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

  private SecretFile() {}

  /** A secret file that cannot be used; the message names the file and why. */
  public static final class Refused extends RuntimeException {
    Refused(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** The file's content, stripped; refused when it is missing, empty or readable by others. */
  public static String read(Path file) {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      if (!OWNER_ONLY.containsAll(perms) || !perms.contains(PosixFilePermission.OWNER_READ)) {
        throw new Refused("secret file " + file + " has mode " + mode(perms) + "; allowed: " + ALLOWED
            + " (chmod 600 " + file + ")", null);
      }
      String text = Files.readString(file, StandardCharsets.UTF_8).strip();
      if (text.isEmpty()) throw new Refused("secret file " + file + " is empty", null);
      return text;
    } catch (NoSuchFileException e) {
      throw new Refused("secret file " + file + " does not exist", e);
    } catch (IOException e) {
      throw new Refused("secret file " + file + " cannot be read: " + e.getMessage(), e);
    }
  }

  /**
   * Writes {@code content} to {@code file} with mode 0600 from the first byte (a temporary file
   * created 0600, then renamed over), so there is no moment others could read it.
   */
  public static void write(Path file, String content) {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.deleteIfExists(tmp);
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
      Files.writeString(tmp, content.endsWith("\n") ? content : content + "\n", StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new Refused("cannot write secret file " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Creates {@code file} (0600) with {@code content} unless it exists; true when this call created
   * it. Two processes racing: one creates, the other sees it exist.
   */
  public static boolean createIfAbsent(Path file, String content) {
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    } catch (FileAlreadyExistsException e) {
      return false;
    } catch (IOException e) {
      throw new Refused("cannot create secret file " + file + ": " + e.getMessage(), e);
    }
    try {
      Files.writeString(file, content + "\n", StandardCharsets.UTF_8);
      return true;
    } catch (IOException e) {
      throw new Refused("cannot write secret file " + file + ": " + e.getMessage(), e);
    }
  }

  /** 32 random bytes as 64 hex digits: a new token or credential. */
  public static String newSecret() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /** SHA-256 of the secret's UTF-8 bytes, as 64 hex digits: what stores and agents keep instead of the secret. */
  public static String sha256(String secret) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  static String mode(Set<PosixFilePermission> perms) {
    int m = 0;
    for (PosixFilePermission p : perms) m |= 1 << (8 - p.ordinal());
    return String.format("0%o", m);
  }

  private static final SecureRandom RANDOM = new SecureRandom();
}
