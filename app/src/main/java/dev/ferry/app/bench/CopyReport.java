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
      rows.append("| %s | %s MiB | %s MiB | %s ms (%s MiB/s) | %s ms (%s MiB/s) | %s ms (%s MiB/s) | **%sx** |\n".formatted(
          m.get("image"), mib(m.get("size_bytes")), mib(m.get("data_bytes")),
          m.get("ferry_median_ms"), m.get("ferry_mib_s"), m.get("qemu_img_median_ms"), m.get("qemu_img_mib_s"),
          m.get("nbdcopy_median_ms"), m.get("nbdcopy_mib_s"), m.get("ferry_vs_best")));
      runs.append("| %s | %s | %s | %s |\n".formatted(m.get("image"), join(m.get("ferry_ms")), join(m.get("qemu_img_ms")),
          join(m.get("nbdcopy_ms"))));
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
        system, and end with the copy flushed (`nbdcopy --flush`). Ferry's copier runs as the target
        agent runs it (%s, plan from `base:allocation`, positional writes), inside the bench's JVM
        like inside the agent's: the JVM's start is not timed; one untimed Ferry copy first warms the
        JIT and the source's page cache for all three. The tools take turns in each of %s rounds, in
        rotating order. Every copy compared identical to the source (`qemu-img compare`). Medians:

        | image | size | data | Ferry | `qemu-img convert` | `nbdcopy` | Ferry vs the better |
        |---|---:|---:|---:|---:|---:|---:|
        %s
        Throughput counts the image's data (holes are not sent by any of the three). Goal (issue 13):
        at least 1.0x the better of the two on both images.

        Single runs (ms):

        | image | Ferry | `qemu-img convert` | `nbdcopy` |
        |---|---|---|---|
        %s
        Versions: %s; %s.

        ## Warm vs cold, predicted vs actual cutover

        %s

        Reproduce: `./ferry bench copy --size %s --sparse-size %s --sparse-data %s --runs %s` (writes this
        file and copy.json into docs/bench).

        Raw numbers: [copy.json](copy.json).
        """.formatted(r.get("date"), r.get("cpus"), r.get("loadavg_start"), r.get("loadavg_end"), r.get("ferry_options"),
        r.get("runs"), rows, runs, r.get("qemu_img_version"), r.get("nbdcopy_version"), warm(r),
        mib(full.get("size_bytes")), mib(sparse.get("size_bytes")), mib(sparse.get("data_bytes")), r.get("runs"));
  }

  /** The warm part, written by the warm-migration bench into the same report; absent until then. */
  @SuppressWarnings("unchecked")
  private static String warm(Map<String, Object> r) {
    Object warm = r.get("warm");
    if (!(warm instanceof Map<?, ?> w)) {
      return "Not measured in this run: the warm-migration part of this benchmark (issue 13) adds it here.";
    }
    Object md = ((Map<String, Object>) w).get("markdown");
    return md == null ? String.valueOf(w) : md.toString();
  }

  private static long mib(Object bytes) {
    return ((Number) bytes).longValue() >> 20;
  }

  private static String join(Object values) {
    return String.join(", ", ((List<?>) values).stream().map(String::valueOf).toList());
  }
}
