package dev.ferry.app.bench;

import java.util.List;
import java.util.Map;

/**
 * The storage benchmark's report as markdown: the offline baseline, then one row per mirror
 * variant run on the same VM, with the ratios the issue asks for, and the trade-off plot.
 */
final class StorageReport {

  private StorageReport() {}

  @SuppressWarnings("unchecked")
  static String markdown(Map<String, Object> r) {
    var variants = (List<Map<String, Object>>) r.get("variants");
    var rows = new StringBuilder();
    for (var v : variants) {
      int cap = ((Number) v.get("cap_mib_s")).intValue();
      rows.append("| %s | %s ms | %s MiB/s | **%s** | %s µs | %s µs | **%s** | %s µs | %s ms | %s |\n".formatted(
          cap == 0 ? "none" : cap + " MiB/s", v.get("mirror_ms"), v.get("mirror_mib_s"), v.get("mirror_vs_convert"),
          v.get("guest_lat_before_mean_us"), v.get("guest_lat_during_mean_us"), v.get("guest_lat_during_vs_before"),
          v.get("guest_lat_during_max_us"), v.get("pivot_ms"),
          Boolean.TRUE.equals(v.get("verify_ok")) ? "passed" : "FAILED"));
    }
    long sizeMib = (long) r.get("size_bytes") >> 20;
    return """
        # Storage migration benchmark

        `ferry bench storage --size %s --variants %s`, run %s on %s cpus, accelerator %s;
        load average (1, 5, 15 min) %s at the start, %s at the end (other engineers' QEMUs share the
        machine, so compare the rows of this one run rather than with other runs).

        A running VM's %s MiB qcow2 disk (all but the guest's first 16 MiB filled with random data)
        is mirrored live into another pool by Ferry's agent (write-blocking `blockdev-mirror`, target
        file node with `cache.direct=true`), while the guest writes and verifies its disk at %s MiB/s.
        One row per speed cap, run one after another on the same VM: each mirror pivots, is verified
        against the old image as of the pivot, and the next one moves the disk back. In the same run
        `qemu-img convert` copies the same image with the VM stopped: the offline baseline, %s ms
        (%s MiB/s; second of two runs, the first took %s ms).

        | speed cap | mirror | throughput | vs convert | guest latency before | during | during / before | max during | pivot | verify |
        |---|---:|---:|---:|---:|---:|---:|---:|---:|---|
        %s
        ![mirror throughput vs guest write latency](storage-tradeoff.png)

        Guest disk errors: %s. The first row reads an image the page cache holds, as `qemu-img
        convert` does; the later rows read the image the previous row wrote with `O_DIRECT`, from
        the disk. The guest reports its latency once a second, so "during" is the reports of the
        mirror plus the one that covers its end; a copy of about a second has one or two reports.

        Reproduce: `./ferry bench storage --size %s --variants %s` (writes this file,
        storage.json and storage-tradeoff.png into docs/bench).

        Raw numbers: [storage.json](storage.json).
        """.formatted(sizeMib, joinCaps(variants), r.get("date"), r.get("cpus"), r.get("accelerator"),
        r.get("loadavg_start"), r.get("loadavg_end"), sizeMib, r.get("guest_write_rate_mib_s"), r.get("convert_ms"),
        r.get("convert_mib_s"), r.get("convert_cold_ms"), rows, variants.stream().mapToLong(v -> ((Number) v.get("guest_disk_errors")).longValue()).max().orElse(0),
        sizeMib, joinCaps(variants));
  }

  private static String joinCaps(List<Map<String, Object>> variants) {
    return String.join(",", variants.stream().map(v -> String.valueOf(v.get("cap_mib_s"))).toList());
  }
}
