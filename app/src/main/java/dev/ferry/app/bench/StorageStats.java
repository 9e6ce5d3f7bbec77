package dev.ferry.app.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The storage bench's runs per variant folded into one row: medians, with the smallest and
 * largest of the runs as the spread (a shared machine makes single runs unreliable).
 */
final class StorageStats {

  /** The figures given as median, min and max. */
  static final List<String> SPREAD = List.of("mirror_ms", "mirror_mib_s", "mirror_vs_convert", "guest_lat_during_vs_before");
  /** The figures given as a median only. */
  static final List<String> MEDIAN = List.of("mirror_vs_convert_direct", "mirror_vs_convert_unflushed", "setup_ms", "copy_mib_s", "guest_lat_before_mean_us",
      "guest_lat_during_mean_us", "pivot_ms", "guest_reports_during_mirror");

  private StorageStats() {}

  static double median(List<Double> values) {
    if (values.isEmpty()) return Double.NaN;
    var sorted = new ArrayList<>(values);
    sorted.sort(Double::compare);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  static List<Map<String, Object>> summarize(List<String> variants, List<Map<String, Object>> mirrors) {
    var rows = new ArrayList<Map<String, Object>>();
    for (String variant : variants) {
      List<Map<String, Object>> of = mirrors.stream().filter(m -> variant.equals(m.get("variant"))).toList();
      if (of.isEmpty()) continue;
      var row = new LinkedHashMap<String, Object>();
      row.put("variant", variant);
      row.put("cap_mib_s", of.getFirst().get("cap_mib_s"));
      row.put("adaptive", of.getFirst().get("adaptive"));
      row.put("runs", of.size());
      for (String key : SPREAD) {
        List<Double> v = values(of, key);
        row.put(key, StorageBench.round2(median(v)));
        row.put(key + "_min", StorageBench.round2(v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN)));
        row.put(key + "_max", StorageBench.round2(v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN)));
      }
      for (String key : MEDIAN) row.put(key, StorageBench.round2(median(values(of, key))));
      row.put("guest_lat_during_max_us", values(of, "guest_lat_during_max_us").stream().mapToDouble(Double::doubleValue)
          .max().orElse(Double.NaN));
      row.put("guest_disk_errors", (long) values(of, "guest_disk_errors").stream().mapToDouble(Double::doubleValue)
          .max().orElse(0));
      row.put("verify_ok", of.stream().allMatch(m -> Boolean.TRUE.equals(m.get("verify_ok"))));
      rows.add(row);
    }
    return rows;
  }

  private static List<Double> values(List<Map<String, Object>> of, String key) {
    return of.stream().map(m -> m.get(key)).filter(x -> x instanceof Number).map(x -> ((Number) x).doubleValue())
        .filter(d -> !d.isNaN()).toList();
  }
}
