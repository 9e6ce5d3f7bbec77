package dev.ferry.agent.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.qemu.NicSpec;
import dev.ferry.api.TapNames;
import dev.ferry.api.agent.AgentNic;
import java.util.List;
import org.junit.jupiter.api.Test;

class VmDefinitionsNicsTest {

  @Test
  void nics_tapNamedAfterHostVmIndexAndMac_vnetHdrOnUnlessAskedOff() {
    List<NicSpec> nics = VmDefinitions.nics("web", List.of(new AgentNic("lan", "br0", "52:54:00:00:00:01", null),
        new AgentNic("lan", "br0", "52:54:00:00:00:02", false)), "host1", false);

    assertThat(nics).extracting(NicSpec::tap).containsExactly(TapNames.of("host1", "web", 0, "52:54:00:00:00:01"),
        TapNames.of("host1", "web", 1, "52:54:00:00:00:02"));
    assertThat(nics).extracting(NicSpec::vnetHdr).containsExactly(true, false);
    assertThat(nics.getFirst().tap()).hasSizeLessThanOrEqualTo(15)
        .isNotEqualTo(TapNames.of("host2", "web", 0, "52:54:00:00:00:01"));
  }

  @Test
  void nics_ftReadyVm_plainFramesUnlessAskedOtherwise() {
    List<NicSpec> nics = VmDefinitions.nics("web", List.of(new AgentNic("lan", "br0", "52:54:00:00:00:01", null),
        new AgentNic("lan", "br0", "52:54:00:00:00:02", true)), "host1", true);

    assertThat(nics).extracting(NicSpec::vnetHdr).containsExactly(false, true);
  }

  @Test
  void nics_badMacOrBridge_namesTheField() {
    assertThatThrownBy(() -> VmDefinitions.nics("web", List.of(new AgentNic("lan", "br0", "01:00:5e:00:00:01", null)), "h", false))
        .isInstanceOf(AgentException.class).hasMessageContaining("nics[0].mac");
    assertThatThrownBy(() -> VmDefinitions.nics("web", List.of(new AgentNic("lan", "br/0", "52:54:00:00:00:01", null)), "h", false))
        .isInstanceOf(AgentException.class).hasMessageContaining("nics[0].bridge");
  }
}
