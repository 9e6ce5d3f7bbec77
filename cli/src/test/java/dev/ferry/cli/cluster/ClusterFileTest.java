package dev.ferry.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterFileTest {

  @TempDir Path dir;

  @Test
  void clusterFile_writeThenRead_roundTrips() {
    ClusterLayout layout = new ClusterLayout(dir);
    ClusterFile file = ClusterUp.plan(layout, null, 2).withController(
        ClusterUp.plan(layout, null, 1).controller().withPid(1234L));

    file.write(dir);

    assertThat(ClusterFile.read(dir)).contains(file);
    assertThat(dir.resolve("cluster.json.tmp")).doesNotExist();
  }

  @Test
  void clusterFile_json_usesSnakeCaseNamesScriptsCanRead() throws Exception {
    ClusterUp.plan(new ClusterLayout(dir), null, 1).write(dir);

    assertThat(Files.readString(dir.resolve("cluster.json")))
        .contains("\"controller_url\" : \"https://127.0.0.1:")
        .contains("\"ca_file\" : \"" + dir.resolve("ca/ca-cert.pem") + "\"")
        .contains("\"token_file\" : \"" + dir.resolve("controller/token") + "\"")
        .contains("\"data\" : \"" + dir.resolve("hosts/host1") + "\"");
  }

  @Test
  void clusterFile_missing_readsEmpty() {
    assertThat(ClusterFile.read(dir.resolve("nope"))).isEmpty();
  }

  @Test
  void plan_newCluster_givesControllerAndAgentsDistinctPortsAndTheLayoutsPaths() {
    ClusterLayout layout = new ClusterLayout(dir);

    ClusterFile file = ClusterUp.plan(layout, null, 3);

    assertThat(file.agents()).extracting(ClusterFile.Component::name).containsExactly("host1", "host2", "host3");
    List<Integer> ports = new java.util.ArrayList<>(file.agents().stream().map(ClusterFile.Component::port).toList());
    ports.add(file.controller().port());
    assertThat(ports).doesNotHaveDuplicates().allMatch(p -> p > 0);
    assertThat(file.controllerUrl()).isEqualTo("https://127.0.0.1:" + file.controller().port());
    assertThat(file.caFile()).isEqualTo(dir.resolve("ca/ca-cert.pem").toString());
    assertThat(file.tokenFile()).isEqualTo(dir.resolve("controller/token").toString());
    assertThat(file.agent("host2").orElseThrow().data()).isEqualTo(dir.resolve("hosts/host2").toString());
    assertThat(file.agent("host2").orElseThrow().log()).isEqualTo(dir.resolve("logs/host2.log").toString());
  }

  @Test
  void plan_recordedCluster_reusesPortsAndPidsAndAddsOnlyMissingHosts() {
    ClusterLayout layout = new ClusterLayout(dir);
    ClusterFile first = ClusterUp.plan(layout, null, 2);
    first = first.withAgent(first.agent("host1").orElseThrow().withPid(77L));

    ClusterFile second = ClusterUp.plan(layout, first, 3);

    assertThat(second.controller()).isEqualTo(first.controller());
    assertThat(second.agent("host1")).isEqualTo(first.agent("host1"));
    assertThat(second.agent("host2")).isEqualTo(first.agent("host2"));
    assertThat(second.agent("host3").orElseThrow().port())
        .isNotIn(first.controller().port(), first.agent("host1").orElseThrow().port(), first.agent("host2").orElseThrow().port());
  }

  @Test
  void ports_free_areDistinctAndBindable() throws Exception {
    List<Integer> ports = Ports.free(5);

    assertThat(ports).hasSize(5).doesNotHaveDuplicates();
    for (int p : ports) {
      try (var s = new java.net.ServerSocket(p, 1, java.net.InetAddress.getLoopbackAddress())) {
        assertThat(s.getLocalPort()).isEqualTo(p);
      }
    }
  }
}
