package dev.ferry.app.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LiveStatsTest {

  private static Map<String, Object> run(String method, boolean converged, long total, long downtime) {
    var r = new LinkedHashMap<String, Object>();
    r.put("method", method);
    r.put("converged", converged);
    if (converged) {
      r.put("total_ms", total);
      r.put("downtime_qemu_ms", downtime);
    }
    r.put("outcome", converged ? "converged" : "cut at the bench's limit");
    return r;
  }

  @Test
  void summary_mediansAndSpreadOverCompletedRunsOnly_outcomesOverAll() {
    var s = LiveStats.summary(List.of(run("x", true, 300, 30), run("x", false, 0, 0), run("x", true, 100, 50),
        run("x", true, 200, 40)));
    assertThat(s).containsEntry("runs", 4).containsEntry("completed", 3);
    assertThat(s.get("outcomes")).isEqualTo(Map.of("converged", 3, "cut at the bench's limit", 1));
    assertThat(s.get("total_ms")).isEqualTo(Map.of("median", 200.0, "min", 100.0, "max", 300.0, "n", 3));
    assertThat(s.get("downtime_qemu_ms")).isEqualTo(Map.of("median", 40.0, "min", 30.0, "max", 50.0, "n", 3));
  }

  @Test
  void representative_isTheCompletedRunWithTheMedianTotal() {
    var runs = List.of(run("x", true, 300, 1), run("x", false, 0, 0), run("x", true, 100, 2), run("x", true, 200, 3));
    assertThat(LiveStats.representative(runs).get("downtime_qemu_ms")).isEqualTo(3L);
    var none = List.of(run("x", false, 0, 0));
    assertThat(LiveStats.representative(none)).isSameAs(none.getFirst());
  }

  @Test
  void ferryVsPeers_againstTheBestPeerThatCompletedEveryRun() {
    var medians = new LinkedHashMap<String, Map<String, Object>>();
    medians.put("ferry", LiveStats.summary(List.of(run("ferry", true, 1000, 40), run("ferry", true, 1200, 60))));
    medians.put("libvirt", LiveStats.summary(List.of(run("libvirt", true, 800, 200), run("libvirt", true, 800, 200))));
    medians.put("nova", LiveStats.summary(List.of(run("nova", true, 2000, 25), run("nova", true, 2000, 35))));
    // best downtime of all, but it did not complete every run: not a peer to beat here
    medians.put("proxmox", LiveStats.summary(List.of(run("proxmox", true, 500, 5), run("proxmox", false, 0, 0))));

    var v = LiveStats.ferryVsPeers(medians);

    assertThat(v).containsEntry("best_peer_downtime", "nova").containsEntry("ferry_vs_best_peer_downtime", 1.67)
        .containsEntry("fastest_peer", "libvirt").containsEntry("ferry_vs_fastest_peer_total", 1.38);
    assertThat(v.get("peers_completing_every_run")).isEqualTo(List.of("libvirt", "nova"));
  }

  @Test
  void predictionError_isRelativeToActual() {
    assertThat(LiveStats.error(1250, 1000L)).isEqualTo(0.25);
    assertThat(LiveStats.error(null, 1000L)).isNaN();
  }

  @Test
  void downtime_qemuReportedZero_isTheSourcesPauseInstead() {
    var zero = run("libvirt", true, 800, 0);
    zero.put("pause_ms", 12L);
    var s = LiveStats.summary(List.of(zero, run("libvirt", true, 900, 20), run("libvirt", true, 1000, 30)));
    assertThat(s.get("downtime_ms")).isEqualTo(Map.of("median", 20.0, "min", 12.0, "max", 30.0, "n", 3));
  }
}
