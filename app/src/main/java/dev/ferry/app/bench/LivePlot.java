package dev.ferry.app.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Per-pass remaining bytes against the dirty rate, one panel per workload: a point per pre-copy
 * pass of every run ({@link PassLog}), coloured by method, the passes of each method's median run
 * joined in order. A method whose points climb to the right is being outrun by its guest. Plain
 * Java2D, as {@link StoragePlot}.
 */
final class LivePlot {

  private static final int PW = 420;
  private static final int PH = 300;
  private static final int COLS = 3;
  private static final int L = 60;
  private static final int R = 15;
  private static final int T = 30;
  private static final int B = 40;
  private static final Color[] COLORS = {new Color(200, 30, 30), new Color(0, 90, 200), new Color(0, 150, 70),
      new Color(150, 60, 180), new Color(220, 130, 0), new Color(90, 90, 90), new Color(0, 170, 170)};

  private LivePlot() {}

  @SuppressWarnings("unchecked")
  static void write(Map<String, Object> report, Path png) throws IOException {
    var workloads = (List<Map<String, Object>>) report.get("workloads");
    var methods = (List<String>) report.get("methods");
    int rows = Math.max(1, (workloads.size() + COLS - 1) / COLS);
    int legendH = 30;
    var img = new BufferedImage(PW * COLS, PH * rows + legendH, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, img.getWidth(), img.getHeight());
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
      for (int i = 0; i < methods.size(); i++) {
        g.setColor(COLORS[i % COLORS.length]);
        g.fillRect(10 + i * 110, 10, 10, 10);
        g.setColor(Color.BLACK);
        g.drawString(methods.get(i), 25 + i * 110, 20);
      }
      g.drawString("x: QEMU's dirty rate at the pass (MiB/s)   y: remaining at the pass (MiB)", 10 + methods.size() * 110, 20);
      for (int w = 0; w < workloads.size(); w++) {
        int ox = (w % COLS) * PW;
        int oy = legendH + (w / COLS) * PH;
        panel(g, ox, oy, workloads.get(w), methods);
      }
    } finally {
      g.dispose();
    }
    ImageIO.write(img, "png", png.toFile());
  }

  @SuppressWarnings("unchecked")
  private static void panel(Graphics2D g, int ox, int oy, Map<String, Object> w, List<String> methods) {
    var samples = (Map<String, List<Map<String, Object>>>) w.get("samples");
    var median = (Map<String, Map<String, Object>>) w.get("runs");
    double maxX = 1;
    double maxY = 1;
    if (samples != null) {
      for (var runs : samples.values()) {
        for (var run : runs) {
          for (var p : passes(run)) {
            maxX = Math.max(maxX, mib(p.get("dirty_rate_bytes_s")));
            maxY = Math.max(maxY, mib(p.get("remaining_bytes")));
          }
        }
      }
    }
    maxX *= 1.1;
    maxY *= 1.1;
    int x0 = ox + L;
    int y0 = oy + PH - B;
    int pw = PW - L - R;
    int ph = PH - T - B;
    g.setColor(Color.BLACK);
    g.drawRect(x0, oy + T, pw, ph);
    g.drawString(String.valueOf(w.get("workload")), x0, oy + T - 8);
    for (int i = 0; i <= 4; i++) {
      g.drawString(String.format("%.0f", maxX * i / 4), x0 + pw * i / 4 - 10, y0 + 15);
      g.drawString(String.format("%.0f", maxY * i / 4), ox + 5, y0 - ph * i / 4 + 4);
    }
    if (samples == null) return;
    for (int m = 0; m < methods.size(); m++) {
      Color c = COLORS[m % COLORS.length];
      var runs = samples.get(methods.get(m));
      if (runs == null) continue;
      g.setColor(c);
      for (var run : runs) {
        for (var p : passes(run)) {
          int x = x0 + (int) Math.round(mib(p.get("dirty_rate_bytes_s")) / maxX * pw);
          int y = y0 - (int) Math.round(mib(p.get("remaining_bytes")) / maxY * ph);
          g.fillOval(x - 3, y - 3, 6, 6);
        }
      }
      var rep = median == null ? null : median.get(methods.get(m));
      if (rep == null) continue;
      g.setStroke(new BasicStroke(1.5f));
      int px = -1;
      int py = -1;
      for (var p : passes(rep)) {
        int x = x0 + (int) Math.round(mib(p.get("dirty_rate_bytes_s")) / maxX * pw);
        int y = y0 - (int) Math.round(mib(p.get("remaining_bytes")) / maxY * ph);
        if (px >= 0) g.drawLine(px, py, x, y);
        px = x;
        py = y;
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> passes(Map<String, Object> run) {
    return run.get("pass_log") instanceof List<?> l ? (List<Map<String, Object>>) l : List.of();
  }

  private static double mib(Object v) {
    return v instanceof Number n ? n.doubleValue() / 1048576 : 0;
  }
}
