package dev.ferry.app.bench;

import java.util.List;
import java.util.Map;

/**
 * The storage benchmark's report as markdown: the offline baseline, then one row per mirror
 * variant (medians of the runs, with their range), the ratios the issue asks for, and the
 * trade-off plot.
 */
final class StorageReport {

  private StorageReport() {}

  @SuppressWarnings("unchecked")
  static String markdown(Map<String, Object> r) {
    var variants = (List<Map<String, Object>>) r.get("variants");
    var rows = new StringBuilder();
    for (var v : variants) {
      rows.append("| %s | %s | %s ms (%s–%s) | %s MiB/s | **%s** (%s–%s) | %s | %s | %s ms | %s MiB/s | %s µs | %s µs | **%s** (%s–%s) | %s µs | %s |\n"
          .formatted(label(v), v.get("runs"), whole(v.get("mirror_ms")), whole(v.get("mirror_ms_min")),
              whole(v.get("mirror_ms_max")), v.get("mirror_mib_s"), v.get("mirror_vs_convert"), v.get("mirror_vs_convert_min"),
              v.get("mirror_vs_convert_max"), v.get("mirror_vs_convert_direct"), v.get("mirror_vs_convert_unflushed"),
              whole(v.get("setup_ms")), v.get("copy_mib_s"), v.get("guest_lat_before_mean_us"),
              v.get("guest_lat_during_mean_us"), v.get("guest_lat_during_vs_before"), v.get("guest_lat_during_vs_before_min"),
              v.get("guest_lat_during_vs_before_max"), whole(v.get("guest_lat_during_max_us")),
              Boolean.TRUE.equals(v.get("verify_ok")) ? "passed" : "FAILED"));
    }
    long sizeMib = ((Number) r.get("size_bytes")).longValue() >> 20;
    String command = "./ferry bench storage --size %s --variants %s --runs %s".formatted(sizeMib, joinVariants(variants),
        r.get("runs"));
    return """
        # Storage migration benchmark

        `%s`, run %s on %s cpus, accelerator %s;
        load average (1, 5, 15 min) %s at the start, %s at the end (other engineers' QEMUs share the
        machine, so compare the rows of this one run rather than with other runs).

        A running VM's %s MiB qcow2 disk (all but the guest's first 16 MiB filled with random data)
        is mirrored live into another pool by Ferry's agent (write-blocking `blockdev-mirror`, target
        file node with `cache.direct=true`), while the guest writes and verifies its disk at %s MiB/s
        (64 KiB `O_DIRECT|O_SYNC` writes). Each variant runs %s times, in rounds of every variant
        on the same VM: each mirror pivots, is verified against the old image as of the pivot, and the
        next one moves the disk back. Figures are medians of the runs, with the smallest and largest
        in brackets. In the same run `qemu-img convert -t writeback` copies the same image with the VM
        stopped: the offline baseline of the goal, %s ms (%s MiB/s; median of %s, the first, cold run
        took %s ms). It reads the page-cached image and ends with an `fdatasync`, so that its copy is
        durable as the mirror's is when it reports ready. `qemu-img convert -T none -t none` (both
        ends `O_DIRECT`, as the mirror's source after its first pivot and its target always are) took
        %s ms (%s MiB/s, median of %s): the "vs convert O_DIRECT" column. `qemu-img convert` in its
        default cache mode (`unsafe`: it never flushes, and its copy ends in the page cache) took %s
        ms (%s MiB/s, median of %s): the "vs unflushed convert" column, outside the goal. A first,
        uncounted mirror puts the disk on an `O_DIRECT` node, so that every counted mirror starts
        alike.

        | variant | runs | mirror | throughput | vs convert | vs convert O_DIRECT | vs unflushed convert | start | copy alone | guest latency before | during | during / before | max during | verify |
        |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
        %s
        ![mirror throughput vs guest write latency](storage-tradeoff.png)

        Guest disk errors: %s. "mirror" runs from the agent's `PUT mirrors/DISK` to the first status
        that says ready; "start" is that `PUT` alone (target image and nodes, and for the adaptive
        rate the guest's 1 s baseline); "copy alone" is the throughput without it. "none" is the
        uncapped mirror with the adaptive rate off (`--no-adaptive-rate`); "adaptive" is Ferry's
        default. The guest reports its mean write latency once a second; "during" takes the reports
        whose second lies mostly inside the mirror (the first report after the start for a mirror
        shorter than that), "before" the 6 s before it.

        What holds the mirror below `qemu-img convert`, and why capped mirrors showed more latency
        than the uncapped one in the first runs: [storage-tuning.md](storage-tuning.md).

        Reproduce: `%s` (writes this file, storage.json and storage-tradeoff.png into docs/bench).

        Raw numbers, every mirror: [storage.json](storage.json).
        """.formatted(command, r.get("date"), r.get("cpus"), r.get("accelerator"), r.get("loadavg_start"),
        r.get("loadavg_end"), sizeMib, r.get("guest_write_rate_mib_s"), r.get("runs"), r.get("convert_ms"),
        r.get("convert_mib_s"), ((List<?>) r.getOrDefault("convert_runs_ms", List.of())).size(), r.get("convert_cold_ms"),
        r.get("convert_direct_ms"), r.get("convert_direct_mib_s"),
        ((List<?>) r.getOrDefault("convert_direct_runs_ms", List.of())).size(), r.get("convert_unflushed_ms"),
        r.get("convert_unflushed_mib_s"), ((List<?>) r.getOrDefault("convert_unflushed_runs_ms", List.of())).size(), rows, variants.stream().mapToLong(v -> ((Number) v.get("guest_disk_errors")).longValue()).max().orElse(0), command);
  }

  static String label(Map<String, Object> v) {
    if (Boolean.TRUE.equals(v.get("adaptive"))) return "adaptive";
    int cap = ((Number) v.get("cap_mib_s")).intValue();
    return cap == 0 ? "none" : cap + " MiB/s";
  }

  private static String whole(Object n) {
    return n instanceof Number x ? Long.toString(Math.round(x.doubleValue())) : String.valueOf(n);
  }

  private static String joinVariants(List<Map<String, Object>> variants) {
    return String.join(",", variants.stream().map(v -> String.valueOf(v.get("variant"))).toList());
  }
}
