package dev.ferry.api;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Sizes as people write them: {@code 512M}, {@code 1G}, {@code 1.5GiB}, {@code 4096} (bytes). Binary units. */
public final class Sizes {

  private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]?)(?:i?b)?", Pattern.CASE_INSENSITIVE);
  public static final String RULE = "a number with an optional unit K, M, G or T (binary), e.g. 512M or 2G";

  private Sizes() {}

  public static long parse(String field, String text) {
    Matcher m = text == null ? null : SIZE.matcher(text.strip());
    if (m == null || !m.matches()) throw new IllegalArgumentException(field + " '" + text + "' is not valid: " + RULE);
    double n = Double.parseDouble(m.group(1));
    int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
      case "k" -> 10;
      case "m" -> 20;
      case "g" -> 30;
      case "t" -> 40;
      default -> 0;
    };
    double bytes = n * (1L << shift);
    if (bytes > Long.MAX_VALUE / 2) throw new IllegalArgumentException(field + " '" + text + "' is too large");
    return (long) bytes;
  }

  public static String format(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? bytes + " B" : (v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f %s", v, units[u])
        : String.format(Locale.ROOT, "%.1f %s", v, units[u]));
  }
}
