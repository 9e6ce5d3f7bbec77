package dev.ferry.cli;

import dev.ferry.api.DiskRequest;
import dev.ferry.api.Durations;
import dev.ferry.api.NicRequest;
import dev.ferry.api.Sizes;
import dev.ferry.api.rules.MigrationRules;
import dev.ferry.api.rules.RuleViolation;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Option values parsed by picocli, so a bad value is a usage error (exit 2) before any request is
 * sent. Each message names the value and what is allowed; picocli prefixes the option.
 */
public final class Converters {

  private Converters() {}

  /** {@code 512M}, {@code 2G}, ... via {@link Sizes}; must be more than zero. */
  public static final class Size implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        long bytes = Sizes.parse("size", value);
        if (bytes <= 0) throw new IllegalArgumentException("size '" + value + "' is not valid: more than 0 bytes");
        return bytes;
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** {@link Durations}' grammar; picocli names the option in front of the message. */
  public static final class Timeout implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return Durations.parse("duration", value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /**
   * A duration checked with {@link Durations}' grammar but kept as typed: {@code cluster up} hands
   * it to the controller's command line, and a bad one should stop before anything starts.
   */
  public static final class DurationText implements ITypeConverter<String> {
    @Override
    public String convert(String value) {
      try {
        Durations.parsePositive("duration", value);
        return value;
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** {@code SIZE[@POOL]}; the format is filled in later from {@code --format}. */
  public static final class Disk implements ITypeConverter<DiskRequest> {
    @Override
    public DiskRequest convert(String value) {
      int at = value.lastIndexOf('@');
      String pool = at < 0 ? null : value.substring(at + 1);
      if (pool != null && pool.isBlank()) {
        throw new TypeConversionException("disk '" + value + "' is not valid: SIZE or SIZE@POOL, e.g. 10G@shared");
      }
      return new DiskRequest(new Size().convert(at < 0 ? value : value.substring(0, at)), pool, null);
    }
  }

  /** {@code NETWORK[,mac=MAC]}; the controller checks the network and the MAC. */
  public static final class Nic implements ITypeConverter<NicRequest> {
    @Override
    public NicRequest convert(String value) {
      String[] parts = value.split(",", -1);
      String mac = null;
      for (int i = 1; i < parts.length; i++) {
        if (!parts[i].startsWith("mac=") || mac != null) {
          throw new TypeConversionException("nic '" + value + "' is not valid: NETWORK or NETWORK,mac=MAC");
        }
        mac = parts[i].substring("mac=".length());
      }
      if (parts[0].isBlank()) throw new TypeConversionException("nic '" + value + "' is not valid: NETWORK or NETWORK,mac=MAC");
      return new NicRequest(parts[0], mac);
    }
  }

  /** The disk image formats QEMU is asked to create. */
  public static final class Format implements ITypeConverter<String> {
    @Override
    public String convert(String value) {
      String f = value.toLowerCase(Locale.ROOT);
      if (!MigrationRules.FORMATS.contains(f)) {
        throw new TypeConversionException("format '" + value + "' is not valid: " + MigrationRules.FORMAT_RULE);
      }
      return f;
    }
  }

  /** MiB/s as a plain decimal number more than zero: {@code 100}, {@code 12.5}. */
  public static final class Bandwidth implements ITypeConverter<Double> {
    private static final Pattern NUMBER = Pattern.compile("\\d+(\\.\\d+)?");

    @Override
    public Double convert(String value) {
      // a pattern, not Double.parseDouble alone: that one also takes NaN, Infinity and 0x1p3
      double mibS = NUMBER.matcher(value.strip()).matches() ? Double.parseDouble(value.strip()) : 0;
      if (!(mibS > 0) || Double.isInfinite(mibS)) {
        throw new TypeConversionException("bandwidth '" + value + "' is not valid: " + MigrationRules.BANDWIDTH_RULE);
      }
      return mibS;
    }
  }

  /** How a storage migration checks the copy: {@code full} or {@code none}. */
  public static final class Verify implements ITypeConverter<String> {
    @Override
    public String convert(String value) {
      String v = value.toLowerCase(Locale.ROOT);
      if (!MigrationRules.VERIFY.contains(v)) {
        throw new TypeConversionException("verify '" + value + "' is not valid: " + MigrationRules.VERIFY_RULE);
      }
      return v;
    }
  }

  /** A whole number of milliseconds, 1 to {@link MigrationRules#MAX_DOWNTIME_MS} (ten minutes). */
  public static final class Millis implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      String v = value.strip();
      long ms = v.matches("\\d{1,7}") ? Long.parseLong(v) : -1;
      if (ms < 1 || ms > MigrationRules.MAX_DOWNTIME_MS) {
        throw new TypeConversionException("max-downtime '" + value + "' is not valid: " + MigrationRules.DOWNTIME_RULE);
      }
      return ms;
    }
  }

  /** When a live migration switches to post-copy. */
  public static final class Postcopy implements ITypeConverter<String> {
    @Override
    public String convert(String value) {
      String v = value.toLowerCase(Locale.ROOT);
      if (!MigrationRules.POSTCOPY.contains(v)) {
        throw new TypeConversionException("postcopy '" + value + "' is not valid: " + MigrationRules.POSTCOPY_RULE);
      }
      return v;
    }
  }

  /** How a live migration compresses pages. */
  public static final class Compress implements ITypeConverter<String> {
    @Override
    public String convert(String value) {
      String v = value.toLowerCase(Locale.ROOT);
      if (!MigrationRules.COMPRESS.contains(v)) {
        throw new TypeConversionException("compress '" + value + "' is not valid: " + MigrationRules.COMPRESS_RULE);
      }
      return v;
    }
  }

  /** Parallel migration channels, 1 to {@link MigrationRules#MAX_MULTIFD}. */
  public static final class Channels implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      String v = value.strip();
      int n = v.matches("\\d{1,3}") ? Integer.parseInt(v) : 0;
      if (n < 1 || n > MigrationRules.MAX_MULTIFD) {
        throw new TypeConversionException("multifd '" + value + "' is not valid: " + MigrationRules.MULTIFD_RULE);
      }
      return n;
    }
  }

  /** The controller's per-host migration limit, by the controller's own rule. */
  public static final class MigrationsPerHost implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      try {
        return MigrationRules.migrationsPerHost(value);
      } catch (RuleViolation e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
