package dev.ferry.app.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.QemuMigrationStatus;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The peers' monitor loops against the rules read from their sources. */
class PeerTest {

  private static final long MIB = 1L << 20;

  private static MigrationStats stats(long transferred, long remaining) {
    return new MigrationStats("m", OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, null, null, null, null, transferred,
        remaining, 256 * MIB, 0, 0, 1, 0, List.of(), null, null, null, null, null);
  }

  @Test
  void nova_startsAt50msAndStepsBy45msEvery150sForASmallGuest() {
    var nova = new Peer.Nova();
    assertThat(nova.parameters(256 * MIB)).containsEntry("downtime-limit", 50L);
    assertThat(nova.step(1_000, stats(MIB, MIB))).isNull();
    assertThat(nova.step(149_000, stats(MIB, MIB))).isNull();
    // data_gb has a lower bound of 2 GiB: delay 75 s x 2
    assertThat(nova.step(150_000, stats(MIB, MIB))).isEqualTo(new Peer.Tune(Map.of("downtime-limit", 95L),
        "downtime step 1: 95 ms"));
    assertThat(Peer.Nova.downtimeAt(10)).isEqualTo(500);
    // completion timeout 800 s per GiB, 2 GiB at least
    assertThat(nova.step(1_601_000, stats(MIB, MIB))).isInstanceOf(Peer.Abort.class);
  }

  @Test
  void proxmox_doublesDowntimeAfterSixPollsWhereRemainingGrew() {
    var pve = new Peer.Proxmox();
    assertThat(pve.parameters(256 * MIB)).containsEntry("downtime-limit", 100L).containsEntry("max-bandwidth", 16L << 30)
        .containsEntry("xbzrle-cache-size", 32 * MIB);
    assertThat(pve.capabilities()).containsEntry("auto-converge", true).containsEntry("xbzrle", true);
    assertThat(pve.step(500, stats(MIB, 100 * MIB))).as("not a poll yet: every 1 s").isNull();
    Peer.Action last = null;
    long rem = 100 * MIB;
    for (int i = 1; i <= 7; i++) {
      rem += MIB;
      last = pve.step(i * 1000L, stats(i * 50 * MIB, rem));
      if (i < 7) assertThat(last).as("poll " + i).isNull();
    }
    // poll 1 has nothing to compare; polls 2..7 grew: the counter passes 5 on the 6th growth
    assertThat(last).isEqualTo(new Peer.Tune(Map.of("downtime-limit", 200L), "auto-increased downtime to continue migration: 200 ms"));
  }

  @Test
  void kubevirt_abortsWhenRemainingHasNotFallenFor150s() {
    var kv = new Peer.KubeVirt();
    assertThat(kv.parameters(256 * MIB)).containsEntry("max-bandwidth", Peer.LIBVIRT_UNLIMITED_BYTES_PER_S);
    assertThat(kv.step(0, stats(0, 100 * MIB))).isNull();
    assertThat(kv.step(100_000, stats(MIB, 120 * MIB))).isNull();
    assertThat(kv.step(151_000, stats(MIB, 110 * MIB))).isInstanceOf(Peer.Abort.class);
  }

  @Test
  void libvirt_unlimitedBandwidthQemusDowntimeNoCapabilitiesNeverGivesUp() {
    var lv = new Peer.Libvirt();
    assertThat(lv.capabilities()).isEmpty();
    assertThat(lv.parameters(256 * MIB)).containsOnlyKeys("max-bandwidth")
        .containsEntry("max-bandwidth", 9223372036853727232L);
    assertThat(lv.step(3_600_000, stats(MIB, MIB))).isNull();
  }

  @Test
  void proxmox_roundPowerOf2_asQemuMigratePm() {
    assertThat(Peer.Proxmox.roundPowerOf2(26843545)).isEqualTo(32 * MIB);
    assertThat(Peer.Proxmox.roundPowerOf2(32 * MIB)).isEqualTo(32 * MIB);
    assertThat(Peer.Proxmox.roundPowerOf2(1)).isEqualTo(1);
  }
}
