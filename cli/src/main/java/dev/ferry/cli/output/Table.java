package dev.ferry.cli.output;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Plain aligned columns, a header in capitals, no borders: easy to read and to {@code awk}. */
public final class Table {

  private final String[] header;
  private final List<String[]> rows = new ArrayList<>();

  public Table(String... header) {
    this.header = header;
  }

  public Table row(Object... cells) {
    if (cells.length != header.length) {
      throw new IllegalArgumentException("row has " + cells.length + " cells, header " + header.length);
    }
    rows.add(Arrays.stream(cells).map(c -> c == null ? "-" : c.toString()).toArray(String[]::new));
    return this;
  }

  public void print(PrintWriter out) {
    print(out, "");
  }

  public void print(PrintWriter out, String indent) {
    int[] width = new int[header.length];
    for (int i = 0; i < header.length; i++) width[i] = header[i].length();
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) width[i] = Math.max(width[i], r[i].length());
    }
    line(out, indent, header, width);
    for (String[] r : rows) line(out, indent, r, width);
  }

  private static void line(PrintWriter out, String indent, String[] cells, int[] width) {
    StringBuilder b = new StringBuilder(indent);
    for (int i = 0; i < cells.length; i++) {
      b.append(cells[i]);
      if (i < cells.length - 1) b.append(" ".repeat(width[i] - cells[i].length() + 2));
    }
    out.println(b.toString().stripTrailing());
  }
}
