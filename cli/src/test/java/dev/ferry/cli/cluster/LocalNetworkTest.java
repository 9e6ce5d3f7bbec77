package dev.ferry.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class LocalNetworkTest {

  @Test
  void of_namesFitLinuxAndDifferPerClusterDirectory_subnetIsAPrivateSlash24() {
    LocalNetwork a = LocalNetwork.of(new ClusterLayout(Path.of("/tmp/cluster-a")));
    LocalNetwork b = LocalNetwork.of(new ClusterLayout(Path.of("/tmp/cluster-b")));

    for (LocalNetwork n : List.of(a, b)) {
      assertThat(List.of(n.bridge(), n.vethRoot(), n.vethNs(), n.namespace())).allSatisfy(name ->
          assertThat(name).hasSizeLessThanOrEqualTo(15).matches("[a-z0-9-]+"));
      assertThat(n.subnet()).matches("10\\.\\d+\\.\\d+\\.0/24");
      assertThat(n.gateway()).isEqualTo(n.subnet().replace("0/24", "1"));
      assertThat(n.leases()).startsWith("/tmp/cluster-");
    }
    assertThat(a.bridge()).isNotEqualTo(b.bridge());
    assertThat(a.namespace()).isNotEqualTo(b.namespace());
    assertThat(a).isEqualTo(LocalNetwork.of(new ClusterLayout(Path.of("/tmp/cluster-a/."))));
  }
}
