package dev.ferry.app.bench;

import java.util.Locale;
import java.util.Map;

/** The load benchmark's report as markdown: the goals of issue 10 next to what was measured. */
final class LoadReport {

  private LoadReport() {}

  @SuppressWarnings("unchecked")
  static String markdown(Map<String, Object> r) {
    var b = new StringBuilder();
    Map<String, Object> hb = (Map<String, Object>) r.get("heartbeat_ms");
    Map<String, Object> list = (Map<String, Object>) r.get("get_vms_ms");
    Map<String, Object> walk = (Map<String, Object>) r.get("get_vms_all_pages_ms");
    Map<String, Object> burst = (Map<String, Object>) r.get("migration_burst");
    Map<String, Map<String, Object>> sse = (Map<String, Map<String, Object>>) r.get("sse");
    b.append("# Load benchmark\n\n");
    b.append(String.format(Locale.ROOT, "`ferry bench load`, run %s on %s cpus, %s s in all.%n%n", r.get("date"),
        r.get("cpus"), r.get("bench_seconds")));
    b.append(String.format(Locale.ROOT, """
        A real controller process (`ferry controller`, SQLite store, host timeout %s ms, event cap %s)
        on loopback, its store seeded with %s simulated hosts × %s running VMs plus a host `target`
        holding 2 VMs (%s VMs in all). For %s s every host sends a heartbeat every %s ms with all its
        VMs' states (one VM flips between running and paused each time, so there are writes and
        events); 3 SSE clients follow `/api/events` from the start and a 4th connects a third of the
        way in replaying from id 0; `GET /api/vms` is timed twice a second (the default page of 1000
        VMs), and every fifth time all pages are walked; `GET /api/hosts` is polled once a second.
        Half-way, %s live-migration requests, each for a VM of a different host, go to `target` at
        once (the simulated agents hold every call, so admitted migrations stay in flight).

        """, r.get("host_timeout_ms"), r.get("event_max_count"), r.get("hosts"), r.get("vms_per_host"), r.get("vms"),
        r.get("duration_s"), r.get("heartbeat_interval_ms"), burst.get("requests")));
    b.append("| goal (issue 10) | measured | met |\n|---|---|---|\n");
    long flaps = ((Number) r.get("host_flaps")).longValue();
    int notOnline = ((java.util.List<?>) r.get("hosts_seen_not_online")).size();
    row(b, "no host flaps", flaps + " host.state events leaving online; " + notOnline + " hosts ever seen not online",
        flaps == 0 && notOnline == 0);
    row(b, "p99 `GET /api/vms` under 500 ms", "p50 " + list.get("p50") + " ms, p99 " + list.get("p99") + " ms, max "
        + list.get("max") + " ms (" + list.get("n") + " requests)", num(list.get("p99")) < 500);
    long events = num(r.get("events_in_store"));
    long cap = num(r.get("event_max_count"));
    long slack = eventSlack(r);
    row(b, "events stay under their cap", events + " events kept at the end of " + r.get("last_event_id")
        + " published (cap " + cap + ", pruned every 10 s: at most " + slack + " more between two prunings at this rate)",
        events <= cap + slack);
    long admitted = num(burst.get("admitted"));
    row(b, "at most 2 of " + burst.get("requests") + " migrations to a target holding 2 VMs accepted", admitted
        + " admitted, " + burst.get("refused_by_per_host_limit") + " refused by --max-migrations-per-host",
        admitted <= 2);
    Map<String, Object> replay = sse.get("replay_from_0");
    row(b, "a replay from a pruned id is told so", replay == null ? "no replay client" : "first event `"
        + replay.get("first_event") + "`, first available id " + replay.get("gap_first_available_id"),
        replay != null && "replay.gap".equals(replay.get("first_event")));
    b.append("\n## Details\n\n");
    b.append(String.format(Locale.ROOT, """
        - heartbeats: %s sent, %s failed; round trip p50 %s ms, p99 %s ms, max %s ms
        - all %s VMs through every page: p50 %s ms, p99 %s ms (%s walks)
        - store (ferry.db + WAL + shm): %s at the end, at most %s during the run
        - controller log (INFO): %s for the whole run; VM console and QEMU logs are the agents' and
          are capped there (`--log-max-size`, `LogRotationTest`); these simulated agents write none
        - SSE clients: %s
        - migration answers: %s
        - controller exit code after SIGTERM: %s

        The simulated agents, the SSE clients and the samplers share this machine's CPUs with the
        controller, so the latencies include their load. %s
        """, r.get("heartbeats"), r.get("heartbeat_failures"), hb.get("p50"), hb.get("p99"), hb.get("max"),
        r.get("vms"), walk.get("p50"), walk.get("p99"), walk.get("n"), bytes(r.get("store_bytes_end")),
        bytes(r.get("store_bytes_max")), bytes(r.get("controller_log_bytes")), sse, burst.get("answers"),
        r.get("controller_exit"), Boolean.TRUE.equals(r.get("tls"))
            ? "The controller and the fake agent speak HTTPS only (`--tls`, a CA made for the run)."
            : "The controller speaks plain HTTP here (`--no-tls`)."));
    if (flaps > 0) b.append("\nFlap events: ").append(r.get("flap_events")).append('\n');
    return b.toString();
  }

  /** What is published in one pruning period (10 s) at the run's average rate, plus a margin. */
  static long eventSlack(Map<String, Object> r) {
    double perSecond = (double) num(r.get("last_event_id")) / Math.max(1, num(r.get("duration_s")));
    return (long) Math.ceil(perSecond * 10) + 20;
  }

  private static void row(StringBuilder b, String goal, String measured, boolean met) {
    b.append("| ").append(goal).append(" | ").append(measured).append(" | ").append(met ? "yes" : "**no**").append(" |\n");
  }

  private static long num(Object o) {
    return o == null ? Long.MAX_VALUE : ((Number) o).longValue();
  }

  private static String bytes(Object o) {
    long n = num(o);
    return n >= 1 << 20 ? String.format(Locale.ROOT, "%.1f MiB", n / 1048576.0) : String.format(Locale.ROOT, "%.0f KiB", n / 1024.0);
  }
}
