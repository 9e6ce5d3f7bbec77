package dev.ferry.app.bench;

import java.util.Map;

/** The storage benchmark's report as markdown: what was measured, side by side, and the ratios. */
final class StorageReport {

  private StorageReport() {}

  static String markdown(Map<String, Object> r) {
    return """
        # Storage migration benchmark

        `ferry bench storage`, run %s on %s cpus, accelerator %s.

        A running VM's %s MiB qcow2 disk (all but the guest's first 16 MiB filled with random data)
        is mirrored live into another pool by Ferry's agent (write-blocking `blockdev-mirror`,
        no speed cap), while the guest writes and verifies its disk at %s MiB/s. In the same run,
        `qemu-img convert` copies the same image with the VM stopped: the offline baseline.

        | | time | throughput |
        |---|---:|---:|
        | `qemu-img convert` (VM stopped; second of two runs, the first took %s ms) | %s ms | %s MiB/s |
        | Ferry live mirror (VM running and writing) | %s ms | %s MiB/s |
        | **ratio mirror / convert** | | **%s** |

        | guest write latency | mean | max |
        |---|---:|---:|
        | before the mirror | %s µs | %s µs |
        | during the mirror (%s one-second reports) | %s µs | %s µs |
        | **ratio during / before (mean)** | **%s** | |

        Pivot (switch to the new image): %s ms. Verification of the new image against the old one
        as of the pivot: %s in %s ms (%s bytes compared). Guest disk errors: %s.

        The image was just written, so both copies read it from the page cache; the guest reports
        its latency once a second, so the "during" window is the mirror's reports plus the one that
        covers its end.

        Raw numbers: [storage.json](storage.json).
        """.formatted(r.get("date"), r.get("cpus"), r.get("accelerator"), (long) r.get("size_bytes") >> 20,
        r.get("guest_write_rate_mib_s"), r.get("convert_cold_ms"), r.get("convert_ms"), r.get("convert_mib_s"),
        r.get("mirror_ms"), r.get("mirror_mib_s"), r.get("mirror_vs_convert"),
        r.get("guest_lat_before_mean_us"), r.get("guest_lat_before_max_us"), r.get("guest_reports_during_mirror"),
        r.get("guest_lat_during_mean_us"), r.get("guest_lat_during_max_us"), r.get("guest_lat_during_vs_before"),
        r.get("pivot_ms"), Boolean.TRUE.equals(r.get("verify_ok")) ? "passed" : "FAILED", r.get("verify_ms"),
        r.get("verify_compared_bytes"), r.get("guest_disk_errors"));
  }
}
