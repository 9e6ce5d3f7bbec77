package dev.ferry.controller;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The cluster secret: 32 random bytes as hex in {@code <data>/token}, mode 0600, created on first
 * start and reused afterwards so agents and the CLI keep working across restarts.
 */
final class TokenFile {

  private TokenFile() {}

  static String loadOrCreate(Path file) {
    try {
      if (!Files.exists(file)) {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        String token = HexFormat.of().formatHex(secret);
        try {
          // created with 0600 from the start: there is no moment where others can read it
          Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
          Files.writeString(file, token + "\n", StandardCharsets.US_ASCII);
          return token;
        } catch (FileAlreadyExistsException raced) {
          // another process created it first; use theirs
        }
      }
      String token = Files.readString(file, StandardCharsets.US_ASCII).strip();
      if (token.isEmpty()) {
        throw new IllegalStateException("token file " + file + " is empty; delete it to create a new one");
      }
      return token;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create token file " + file, e);
    }
  }
}
