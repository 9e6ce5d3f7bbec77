package dev.ferry.app.bench;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The guest's {@code FERRY DISK} reports from a console log, between two byte offsets, so a
 * benchmark can ask "what did the workload see while the mirror ran".
 */
final class GuestDiskLines {

  record Sample(double rateMibS, long errors, double latUs, double maxLatUs) {}

  /** A report and the console offset just past it: when the log grew past it, the guest had said it. */
  record At(long endOffset, Sample sample) {}

  /** Mean of the per-second means, worst of the maxima, over a window. */
  record Latency(double meanUs, double maxUs, int seconds, long errors) {}

  private static final Pattern DISK = Pattern.compile(
      "FERRY DISK gen=\\d+ block=\\d+ rate=([0-9.]+) errors=(\\d+) lat_us=([0-9.]+) maxlat_us=([0-9.]+)");

  private final Path console;

  GuestDiskLines(Path console) {
    this.console = console;
  }

  long position() {
    return console.toFile().length();
  }

  List<Sample> between(long from, long to) throws IOException {
    return at(from, to).stream().map(At::sample).toList();
  }

  List<At> at(long from, long to) throws IOException {
    try (var f = new RandomAccessFile(console.toFile(), "r")) {
      long end = Math.min(to, f.length());
      byte[] buf = new byte[(int) Math.max(0, end - from)];
      f.seek(from);
      f.readFully(buf);
      var out = new ArrayList<At>();
      String text = new String(buf, StandardCharsets.ISO_8859_1); // one char per byte: offsets stay byte offsets
      Matcher m = DISK.matcher(text);
      while (m.find()) {
        out.add(new At(from + m.end(), new Sample(Double.parseDouble(m.group(1)), Long.parseLong(m.group(2)),
            Double.parseDouble(m.group(3)), Double.parseDouble(m.group(4)))));
      }
      return out;
    }
  }

  static Latency latency(List<Sample> samples) {
    double mean = samples.stream().mapToDouble(Sample::latUs).average().orElse(Double.NaN);
    double max = samples.stream().mapToDouble(Sample::maxLatUs).max().orElse(Double.NaN);
    long errors = samples.stream().mapToLong(Sample::errors).max().orElse(0);
    return new Latency(mean, max, samples.size(), errors);
  }
}
