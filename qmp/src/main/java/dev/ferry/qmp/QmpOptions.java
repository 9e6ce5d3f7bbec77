package dev.ferry.qmp;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of one {@link QmpClient}, frozen once it connects.
 *
 * @param maxLineLength the read limit: the longest QMP message accepted, in bytes, not counting
 *     the newline. A longer one is a {@link QmpProtocolException}, so a runaway peer cannot make
 *     the client buffer without bound. Default 16 MiB: QEMU's largest replies (e.g.
 *     {@code query-qmp-schema}, about 200 KiB) fit many times over.
 * @param defaultDeadline the deadline of calls that do not pass one; default 30 s
 */
public record QmpOptions(int maxLineLength, Duration defaultDeadline) {

  public static final int DEFAULT_MAX_LINE_LENGTH = 16 * 1024 * 1024;
  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(30);

  public QmpOptions {
    if (maxLineLength < 1) {
      throw new IllegalArgumentException("max line length must be positive: " + maxLineLength);
    }
    Objects.requireNonNull(defaultDeadline, "defaultDeadline");
    if (defaultDeadline.isNegative() || defaultDeadline.isZero()) {
      throw new IllegalArgumentException("default deadline must be positive: " + defaultDeadline);
    }
  }

  /** 16 MiB read limit, 30 s default deadline. */
  public static QmpOptions defaults() {
    return new QmpOptions(DEFAULT_MAX_LINE_LENGTH, DEFAULT_DEADLINE);
  }

  public QmpOptions withMaxLineLength(int maxLineLength) {
    return new QmpOptions(maxLineLength, defaultDeadline);
  }

  public QmpOptions withDefaultDeadline(Duration defaultDeadline) {
    return new QmpOptions(maxLineLength, defaultDeadline);
  }
}
