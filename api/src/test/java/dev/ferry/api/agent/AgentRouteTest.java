package dev.ferry.api.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HashSet;
import org.junit.jupiter.api.Test;

class AgentRouteTest {

  @Test
  void path_fillsTheParametersInOrder() {
    assertThat(AgentRoute.MIRROR_RELEASE.path("web", "disk0")).isEqualTo("/agent/vms/web/mirrors/disk0/release");
    assertThat(AgentRoute.VOLUME_DELETE.path("local", "web-disk0.qcow2")).isEqualTo("/agent/volumes/local/web-disk0.qcow2");
    assertThat(AgentRoute.HOST.path()).isEqualTo("/agent/host");
    assertThat(AgentRoute.OUTGOING_COMPLETE.params()).containsExactly("name");
  }

  @Test
  void path_wrongCountOrNotOneSegment_isRefused() {
    assertThatThrownBy(() -> AgentRoute.VM.path()).hasMessageContaining("takes 1 path parameters");
    assertThatThrownBy(() -> AgentRoute.VM.path("a/b")).hasMessageContaining("not one segment");
    assertThatThrownBy(() -> AgentRoute.VM.path("a?x=1")).hasMessageContaining("not one segment");
  }

  @Test
  void routes_areDistinct() {
    var seen = new HashSet<String>();
    Arrays.stream(AgentRoute.values()).forEach(r -> assertThat(seen.add(r.method() + " " + r.template())).as(r.name()).isTrue());
  }
}
