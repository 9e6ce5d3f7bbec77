package dev.ferry.agent.vm;

/**
 * How large a VM's console and QEMU logs may grow: each file up to {@code maxBytes} (plus what is
 * written in one rotation period), with {@code keep} rotated copies beside it.
 */
public record LogCaps(long maxBytes, int keep) {

  public static final long DEFAULT_MAX_BYTES = 16L << 20;
  public static final int DEFAULT_KEEP = 3;

  public LogCaps {
    if (maxBytes < 4096) throw new IllegalArgumentException("log max size " + maxBytes + " bytes is less than 4 KiB");
    if (keep < 0 || keep > 100) throw new IllegalArgumentException("rotated logs kept " + keep + " is not 0-100");
  }

  public static LogCaps defaults() {
    return new LogCaps(DEFAULT_MAX_BYTES, DEFAULT_KEEP);
  }
}
