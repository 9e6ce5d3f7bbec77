package dev.ferry.agent.ft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.agent.qemu.DiskFormat;
import dev.ferry.agent.qemu.DiskSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ColoDisksTest {

  private static final DiskSpec DISK = new DiskSpec("disk0", "/pools/a/vm-disk0.qcow2", DiskFormat.QCOW2);

  @Test
  void primary_plainNodesUnderAOneChildQuorum_deviceOnTheQuorum() {
    List<Map<String, Object>> nodes = ColoDisks.PRIMARY.nodes(DISK);

    assertThat(nodes).extracting(n -> n.get("node-name")).containsExactly("disk0-file", "disk0", "disk0-colo");
    assertThat(nodes.getLast()).containsEntry("driver", "quorum").containsEntry("vote-threshold", 1)
        .containsEntry("children", List.of("disk0"));
  }

  @Test
  void secondary_replicaUnderHiddenActiveReplication_quorumOfTheSameName() {
    var overlays = Map.of("disk0", new ColoDisks.Overlays(Path.of("/r/h.qcow2"), Path.of("/r/a.qcow2")));

    List<Map<String, Object>> nodes = ColoDisks.secondary(overlays).nodes(DISK);

    assertThat(nodes).extracting(n -> n.get("node-name"))
        .containsExactly("disk0-file", "disk0", "disk0-hidden", "disk0-active", "disk0-repl", "disk0-colo");
    assertThat(nodes.get(2)).containsEntry("backing", "disk0");
    assertThat(nodes.get(3)).containsEntry("backing", "disk0-hidden");
    assertThat(nodes.get(4)).containsEntry("mode", "secondary").containsEntry("top-id", "disk0-colo")
        .containsEntry("file", "disk0-active");
    assertThat(nodes.get(5)).containsEntry("children", List.of("disk0-repl"));
  }

  @Test
  void buddyDriveAdd_namesTheSecondarysExportAndTheBuddyNode() {
    assertThat(ColoDisks.buddyDriveAdd(DISK, "10.0.0.2", 49200)).isEqualTo("drive_add -n buddy driver=replication,"
        + "mode=primary,file.driver=nbd,file.host=10.0.0.2,file.port=49200,file.export=disk0,node-name=disk0-buddy");
  }
}
