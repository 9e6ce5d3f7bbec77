package dev.ferry.api;

/**
 * One QEMU binary's FT probe finding.
 *
 * @param binary      its path
 * @param sha256      the hash its finding is cached under (null while it could not be read)
 * @param state       {@code probing}, {@code supported} or {@code unsupported}
 * @param reason      the probe's finding in words (for {@code unsupported}: what failed)
 * @param checkpoints COLO checkpoints the probe saw complete
 * @param probeMillis how long the probe took (null while probing)
 */
public record FtBinaryView(String binary, String sha256, String state, String reason, int checkpoints, Long probeMillis) {

  public static final String PROBING = "probing";
  public static final String SUPPORTED = "supported";
  public static final String UNSUPPORTED = "unsupported";
}
