package dev.ferry.app.bench;

import java.util.List;
import java.util.Map;

/**
 * The copy benchmark's report as markdown: one table with the medians of Ferry's copier,
 * {@code qemu-img convert} and {@code nbdcopy} per image and Ferry's ratio to the better of the
 * two, the single runs, the load, and how to reproduce it. The warm-migration part of the
 * benchmark (warm vs cold downtime, predicted vs actual cutover) renders from the report's
 * {@code warm} entry once that part exists.
 */
final class CopyReport {

  private CopyReport() {}

  @SuppressWarnings("unchecked")
  static String markdown(Map<String, Object> r) {
    var images = (List<Map<String, Object>>) r.get("images");
    var rows = new StringBuilder();
    var runs = new StringBuilder();
    for (var m : images) {
      rows.append("| %s | %s MiB | %s MiB | %s ms (%s MiB/s) | %s ms (%s MiB/s) | %s ms (%s MiB/s) | **%sx** | %s |\n".formatted(
          m.get("image"), mib(m.get("size_bytes")), mib(m.get("data_bytes")),
          m.get("ferry_median_ms"), m.get("ferry_mib_s"), m.get("qemu_img_median_ms"), m.get("qemu_img_mib_s"),
          m.get("nbdcopy_median_ms"), m.get("nbdcopy_mib_s"), m.get("ferry_vs_best"), unsafe(m, "_median_ms")));
      runs.append("| %s | %s | %s | %s | %s |\n".formatted(m.get("image"), join(m.get("ferry_ms")), join(m.get("qemu_img_ms")),
          join(m.get("nbdcopy_ms")), unsafe(m, "_ms")));
    }
    Map<String, Object> full = images.get(0);
    Map<String, Object> sparse = images.get(1);
    return """
        # Copy benchmark: Ferry's copier vs qemu-img convert vs nbdcopy

        `ferry bench copy`, run %s on %s cpus; load average (1, 5, 15 min) %s at the start, %s at
        the end (other engineers' QEMUs and builds share the machine: compare the columns of this
        one run, not with other runs).

        All three pull the same qcow2 image from the same export, the one a cold migration's source
        serves (`qemu-storage-daemon`, read-only, TCP loopback), into a new raw file on the same file
        system, and end with the copy durable: Ferry's copier and `qemu-img convert -t writeback` end with
        an fdatasync, `nbdcopy` is run with `--flush`. A migration deletes its source once the copy is in,
        so a copy still in the page cache is not done. `qemu-img convert`'s own default cache mode is
        `unsafe`, which never flushes (no fdatasync at all under strace); it runs too, in the last
        column, to show what durability costs, and stays out of the goal. Ferry's copier runs as the target
        agent runs it into a raw image (%s, plan from `base:allocation`, positional writes, one fdatasync at the end), inside the bench's JVM
        like inside the agent's: the JVM's start is not timed; one untimed Ferry copy first warms the
        JIT and the source's page cache for all three. The tools take turns in each of %s rounds, in
        rotating order. Every copy compared identical to the source (`qemu-img compare`). Medians:

        | image | size | data | Ferry | `qemu-img convert -t writeback` | `nbdcopy --flush` | Ferry vs the better | `qemu-img convert` (unsafe, not flushed) |
        |---|---:|---:|---:|---:|---:|---:|---:|
        %s
        Throughput counts the image's data (holes are not sent by any of them). Goal (issue 13):
        at least 1.0x the better of the two on both images.

        Single runs (ms):

        | image | Ferry | `qemu-img convert -t writeback` | `nbdcopy --flush` | unsafe `qemu-img convert` |
        |---|---|---|---|---|
        %s
        Versions: %s; %s.

        ## Warm vs cold, predicted vs actual cutover

        %s

        Reproduce: `%s` (writes this file and copy.json into docs/bench).

        Raw numbers: [copy.json](copy.json).
        """.formatted(r.get("date"), r.get("cpus"), r.get("loadavg_start"), r.get("loadavg_end"), r.get("ferry_options"),
        r.get("runs"), rows, runs, r.get("qemu_img_version"), r.get("nbdcopy_version"), warm(r), command(r, full, sparse));
  }

  /** The unflushed qemu-img column; a report from before it existed renders a dash. */
  private static String unsafe(Map<String, Object> m, String suffix) {
    Object v = m.get("qemu_img_unsafe" + suffix);
    if (v == null) return "—";
    return suffix.equals("_median_ms") ? v + " ms (" + m.get("qemu_img_unsafe_mib_s") + " MiB/s)" : join(v);
  }

  /**
   * The warm part: cold then warm migrations of one VM through the product, for one disk size or
   * several ({@code --warm-size}: then a table of the ratio per size first, and each size's part);
   * absent with --warm-runs 0.
   */
  @SuppressWarnings("unchecked")
  static String warm(Map<String, Object> r) {
    if (r.get("warm") instanceof List<?> parts) {
      var table = new StringBuilder("""
          Warm's cutover costs about the same whatever the disk (power-off, final pass, verify, the target's
          start); cold's copy grows with the disk. So the ratio of the two depends on the disk's size; this
          run measured it at %d sizes, each with its own VM and cluster:

          | disk | cold's copy | warm downtime (median) | warm vs cold's copy | goal: at most 0.05x |
          |---:|---:|---:|---:|---|
          """.formatted(parts.size()));
      var sections = new StringBuilder();
      for (var raw : parts) {
        var w = (Map<String, Object>) raw;
        var cold = (Map<String, Object>) w.get("cold");
        boolean done = w.get("warm_downtime_median_ms") != null;
        table.append("| %s MiB | %s | %s | %s | %s |\n".formatted(mib(w.get("disk_bytes")),
            cold == null ? "-" : cold.get("copy_ms") + " ms", done ? w.get("warm_downtime_median_ms") + " ms" : "-",
            done ? "**" + w.get("warm_vs_cold_copy") + "x**" : "-",
            done ? (Boolean.TRUE.equals(w.get("goal_warm_vs_cold_copy_met")) ? "met" : "missed") : "failed"));
        sections.append("\n### Disk of ").append(mib(w.get("disk_bytes"))).append(" MiB\n\n").append(warmPart(w))
            .append('\n');
      }
      return (table + sections.toString()).strip();
    }
    if (!(r.get("warm") instanceof Map<?, ?> raw)) {
      return "Not measured in this run (`--warm-runs 0`).";
    }
    return warmPart((Map<String, Object>) raw);
  }

  @SuppressWarnings("unchecked")
  private static String warmPart(Map<String, Object> w) {
    if (w.get("warm_downtime_median_ms") == null) {
      return "The warm part failed in this run: " + w.get("error");
    }
    var cold = (Map<String, Object>) w.get("cold");
    var runs = new StringBuilder();
    for (var one : (List<Map<String, Object>>) w.get("warm_runs")) {
      runs.append("| %s | %s | %s | %s ms | %s ms | %+.1f %% | %s ms | %s ms | %s ms | %s |\n".formatted(one.get("run"),
          one.get("to"), one.get("passes"), one.get("predicted_downtime_ms"), one.get("downtime_ms"),
          ((Number) one.get("prediction_error_pct")).doubleValue(), one.get("shutdown_ms"), one.get("verify_ms"),
          one.get("start_ms"), one.get("loadavg")));
    }
    boolean copyGoal = Boolean.TRUE.equals(w.get("goal_warm_vs_cold_copy_met"));
    boolean predictionGoal = Boolean.TRUE.equals(w.get("goal_prediction_met"));
    return """
        One VM (256 MiB, the test guest) with a %s MiB qcow2 disk filled with the full image's data (0x5a) except
        its first %s MiB, which the guest's writer sweeps at %s MiB/s, checking each record before it
        overwrites it. It moves through the product as a user moves it: a real controller and two enrolled
        agents in this process, the CLI's own commands. First `ferry migrate cold %s --to B --shutdown --start`
        (its first power-off, which the first warm prediction then uses), then %s warm migrations back and
        forth, `ferry migrate warm %s --to HOST --sync-interval 1s`, each cut over by `ferry migration cutover`
        after %s passes. Load average %s at the start of this part, %s at its end (%s s).

        | | downtime | its copy | shutdown | sent |
        |---|---:|---:|---:|---:|
        | cold | %s ms | %s ms | %s ms | %s MiB |
        | warm (median of %s) | **%s ms** | final pass | | |

        Warm cutover downtime vs cold's copy time: **%sx** (goal: at most 0.05x: %s); vs cold's whole
        downtime: %sx. Cold's copy is the time its record spent in phase `copying` (polled every 100 ms).

        Predicted vs actual cutover downtime (the record's `predicted_downtime_ms`, frozen when the cutover
        began, and `downtime_ms`, from the shutdown request to the guest running on the target):

        | run | to | passes | predicted | actual | error | shutdown | verify | rest (exit, define, start) | load |
        |---:|---|---:|---:|---:|---:|---:|---:|---:|---|
        %s
        Median error **%+.1f %%** (goal: within ±25 %%: %s).%s
        """.formatted(mib(w.get("disk_bytes")), w.get("swept_mib"), w.get("write_rate_mib_s"), WarmBench.VM,
        w.get("runs"), WarmBench.VM, w.get("passes_before_cutover"), w.get("loadavg_start"), w.get("loadavg_end"),
        w.get("seconds"), cold.get("downtime_ms"), cold.get("copy_ms"), cold.get("shutdown_ms"),
        mib(cold.get("copied_bytes")), w.get("runs"), w.get("warm_downtime_median_ms"), w.get("warm_vs_cold_copy"),
        copyGoal ? "met" : "missed", w.get("warm_vs_cold_downtime"), runs,
        ((Number) w.get("prediction_error_median_pct")).doubleValue(), predictionGoal ? "met" : "missed",
        w.get("error") == null ? "" : "\n\nStopped early: " + w.get("error")).strip();
  }

  private static String command(Map<String, Object> r, Map<String, Object> full, Map<String, Object> sparse) {
    return r.get("command") != null ? r.get("command").toString() : "./ferry bench copy --size %s --sparse-size %s --sparse-data %s --runs %s"
        .formatted(mib(full.get("size_bytes")), mib(sparse.get("size_bytes")), mib(sparse.get("data_bytes")), r.get("runs"));
  }

  private static long mib(Object bytes) {
    return ((Number) bytes).longValue() >> 20;
  }

  private static String join(Object values) {
    return String.join(", ", ((List<?>) values).stream().map(String::valueOf).toList());
  }
}
