package dev.ferry.agent.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testsupport.TestGuest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AcceleratorProbeIT {

  @TempDir Path cache;

  @Test
  void accelerator_noProbeGuest_choosesTcgAndCachesNothing() {
    var probe = new AcceleratorProbe(QemuInstallation.detect(), cache, Optional.empty());

    assertThat(probe.probe()).isEqualTo(Accelerator.TCG);
    assertThat(cache).isEmptyDirectory();
  }

  /**
   * On these machines SeaBIOS runs under KVM while Linux does not boot: a probe that only ran
   * firmware chose KVM and every guest then hung. Whatever the probe chooses, the test guest
   * must reach userspace with it.
   */
  @Test
  void accelerator_withTheTestGuest_isCachedAndBootsTheGuest() throws Exception {
    TestGuest g = TestGuest.get();
    var probe = new AcceleratorProbe(QemuInstallation.detect(), cache,
        Optional.of(new AcceleratorProbe.ProbeGuest(g.kernel(), g.initrd())));

    Accelerator first = probe.probedOrCached();

    try (var files = Files.list(cache)) {
      assertThat(files.toList()).singleElement().satisfies(f -> assertThat(Files.readString(f).strip()).isEqualTo(first.name()));
    }
    long t0 = System.nanoTime();
    assertThat(probe.probedOrCached()).isEqualTo(first);
    assertThat((System.nanoTime() - t0) / 1_000_000).as("cached answer, ms").isLessThan(1000);
    if (first == Accelerator.KVM) {
      // the probe itself booted the guest to FERRY READY under KVM; nothing more to show
      assertThat(Path.of("/dev/kvm")).exists();
    }
  }
}
