package dev.ferry.app.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The mechanics of {@code ferry bench load} in under a minute, against a real controller process on
 * loopback: 10 simulated hosts × 100 VMs heartbeating every second (twice the default rate) with
 * the default host timeout of 10 s, over HTTPS with a CA of the bench's own, 4 SSE clients (one replaying
 * from 0 after pruning), and 10 concurrent live migrations to a target holding 2 VMs. Timings are
 * reported by the bench, not asserted here.
 */
class LoadBenchTest {

  @Test
  @SuppressWarnings("unchecked")
  void shortLoad_noFlaps_eventsCapped_replayGap_atMostTwoMigrationsAdmitted() throws Exception {
    var settings = new LoadBench.Settings(10, 100, Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(10),
        50, 10, true);

    Map<String, Object> r = LoadCommand.run(settings, System.out);
    System.out.println(LoadReport.markdown(r));

    assertThat(r.get("heartbeat_failures")).as("heartbeats refused or failed").isEqualTo(0L);
    assertThat((long) (int) r.get("heartbeats")).as("heartbeats sent").isGreaterThan(11L * 25);
    assertThat(r.get("host_flaps")).as("host.state events leaving online: " + r.get("flap_events")).isEqualTo(0);
    assertThat((List<String>) r.get("hosts_seen_not_online")).isEmpty();
    Map<String, Object> burst = (Map<String, Object>) r.get("migration_burst");
    assertThat(burst.get("admitted")).as("answers: " + burst.get("answers")).isEqualTo(2L);
    assertThat(burst.get("refused_by_per_host_limit")).isEqualTo(8L);
    assertThat(burst.get("recorded_to_target")).isEqualTo(2);
    assertThat((long) r.get("last_event_id")).as("events published").isGreaterThan(200L);
    assertThat((long) r.get("events_in_store")).as("events kept, pruned every 10 s")
        .isLessThanOrEqualTo(50L + LoadReport.eventSlack(r));
    Map<String, Map<String, Object>> sse = (Map<String, Map<String, Object>>) r.get("sse");
    assertThat(sse).hasSize(4);
    for (var client : sse.values()) assertThat(client.get("status")).isEqualTo(200);
    assertThat(sse.get("live_1").get("events")).isNotEqualTo(0L);
    assertThat(sse.get("replay_from_0").get("first_event")).isEqualTo("replay.gap");
    assertThat(((Map<String, Object>) r.get("get_vms_ms")).get("n")).isNotEqualTo(0);
    assertThat(r.get("controller_exit")).as("SIGTERM ends the JVM by its shutdown hook: 143").isIn(0, 143);
  }
}
