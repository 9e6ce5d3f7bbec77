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
 * The storage trade-off as a PNG: one point per mirror variant, mirror throughput against the
 * guest's write latency during the mirror (as a multiple of its latency just before), with the
 * 2x goal drawn. Plain Java2D, so the bench needs no plotting library.
 */
final class StoragePlot {

  private static final int W = 720;
  private static final int H = 480;
  private static final int LEFT = 80;
  private static final int RIGHT = 30;
  private static final int TOP = 40;
  private static final int BOTTOM = 60;

  private StoragePlot() {}

  @SuppressWarnings("unchecked")
  static void write(Map<String, Object> report, Path png) throws IOException {
    var variants = (List<Map<String, Object>>) report.get("variants");
    double convert = ((Number) report.get("convert_mib_s")).doubleValue();
    double maxX = convert;
    double maxY = 2.5;
    for (var v : variants) {
      maxX = Math.max(maxX, hi(v, "mirror_mib_s"));
      maxY = Math.max(maxY, hi(v, "guest_lat_during_vs_before"));
    }
    maxX *= 1.1;
    maxY *= 1.1;
    var img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, W, H);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      g.setColor(Color.BLACK);
      g.drawRect(LEFT, TOP, W - LEFT - RIGHT, H - TOP - BOTTOM);
      g.drawString("Storage mirror: throughput vs guest write latency (" + report.get("size_bytes") + " bytes, "
          + report.get("accelerator") + ")", LEFT, TOP - 15);
      g.drawString("mirror throughput, MiB/s", W / 2 - 70, H - 15);
      g.drawString("guest write latency during / before", 5, TOP - 2);
      for (int i = 0; i <= 5; i++) {
        double x = maxX * i / 5;
        double y = maxY * i / 5;
        g.drawString(String.format("%.0f", x), px(x, maxX) - 10, H - BOTTOM + 18);
        g.drawString(String.format("%.1f", y), LEFT - 35, py(y, maxY) + 4);
      }
      g.setStroke(new BasicStroke(1, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4}, 0));
      g.setColor(Color.RED);
      g.drawLine(LEFT, py(2, maxY), W - RIGHT, py(2, maxY));
      g.drawString("goal: 2x", W - RIGHT - 60, py(2, maxY) - 4);
      g.setColor(Color.GRAY);
      g.drawLine(px(convert, maxX), TOP, px(convert, maxX), H - BOTTOM);
      g.drawString("qemu-img convert -t writeback", px(convert, maxX) - 200, TOP + 15);
      g.drawLine(px(0.8 * convert, maxX), TOP, px(0.8 * convert, maxX), H - BOTTOM);
      g.drawString("0.8x", px(0.8 * convert, maxX) - 30, TOP + 30);
      g.setStroke(new BasicStroke(2));
      g.setColor(new Color(0, 90, 200));
      g.drawString("median of the runs; bars: smallest to largest", LEFT + 8, H - BOTTOM - 8);
      for (var v : variants) {
        boolean adaptive = Boolean.TRUE.equals(v.get("adaptive"));
        g.setColor(adaptive ? new Color(0, 150, 60) : new Color(0, 90, 200));
        int x = px(num(v, "mirror_mib_s"), maxX);
        int y = py(num(v, "guest_lat_during_vs_before"), maxY);
        g.setStroke(new BasicStroke(1));
        if (v.containsKey("mirror_mib_s_min")) {
          g.drawLine(px(num(v, "mirror_mib_s_min"), maxX), y, px(num(v, "mirror_mib_s_max"), maxX), y);
          g.drawLine(x, py(num(v, "guest_lat_during_vs_before_min"), maxY), x,
              py(num(v, "guest_lat_during_vs_before_max"), maxY));
        }
        if (adaptive) {
          g.fillRect(x - 6, y - 6, 12, 12);
        } else {
          g.fillOval(x - 5, y - 5, 10, 10);
        }
        int cap = ((Number) v.get("cap_mib_s")).intValue();
        g.drawString(adaptive ? "adaptive (Ferry's default)" : cap == 0 ? "no cap" : "cap " + cap, x + 8, y - 6);
      }
    } finally {
      g.dispose();
    }
    ImageIO.write(img, "png", png.toFile());
  }

  /** The largest value of a figure: its range's top when the runs gave one. */
  private static double hi(Map<String, Object> v, String key) {
    return v.containsKey(key + "_max") ? num(v, key + "_max") : num(v, key);
  }

  private static double num(Map<String, Object> v, String key) {
    return ((Number) v.get(key)).doubleValue();
  }

  private static int px(double x, double maxX) {
    return LEFT + (int) Math.round(x / maxX * (W - LEFT - RIGHT));
  }

  private static int py(double y, double maxY) {
    return H - BOTTOM - (int) Math.round(y / maxY * (H - TOP - BOTTOM));
  }
}
