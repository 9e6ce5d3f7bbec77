package dev.ferry.agent.warm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.DiskHashes;
import dev.ferry.api.agent.WarmPassRequest;
import dev.ferry.api.agent.WarmShutdownRequest;
import dev.ferry.api.agent.WarmSource;
import dev.ferry.api.agent.WarmSourceRequest;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.GuestLine;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The source's side of a warm cutover against a real guest: the shutdown request that names the
 * final pass answers that pass prepared (its export and bitmap, the guest off), the source answers
 * the hashes it kept while its QEMU stays (refused while the guest runs), they are the disk's, and
 * a rollback then boots the guest again in the same QEMU, which never quit.
 */
class WarmSourceCutoverIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perTest();

  private static final String VM = "web";
  private static final String ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

  @Test
  void poweredOff_finalPassPrepared_keptHashesAreTheDisks_thenARollbackBootsTheGuestInTheSameQemu(@TempDir Path dir)
      throws Exception {
    GuestHost h1 = GuestHost.in(dir, "h1");
    Vms vms = Vms.load(h1.data(), "h1", h1.pools(), h1.host());
    try {
      cutOverAndRollBack(h1, vms);
    } finally {
      vms.detachAll();
    }
  }

  private static void cutOverAndRollBack(GuestHost h1, Vms vms) throws Exception {
    Path disk = h1.pool().resolve("web-disk0.raw");
    byte[] data = new byte[1 << 20];
    for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 31 + 7);
    Files.write(disk, data);
    vms.define(VM, new AgentVmDefinition(VM, 1, 256L << 20, "q35", null, h1.kernel().toString(),
        h1.initrd().toString(), TestGuest.append(""), List.of(new AgentDisk("disk0", disk.toString(), "raw")),
        List.of()));
    long pid = vms.start(VM).pid();
    owned.own(pid);
    var console = new GuestConsole(vms.runDirOf(VM).console());
    console.await(GuestLine.Ready.class, Duration.ofSeconds(90));
    WarmSources sources = h1.warmSources(vms, "h1");
    sources.start(VM, new WarmSourceRequest(ID, "h2"));
    sources.pass(VM, new WarmPassRequest(ID, 0));

    assertThatThrownBy(() -> sources.hashes(VM, ID)).as("the guest still runs: its hashes would be stale")
        .isInstanceOf(AgentException.class).hasMessageContaining("is still the source of a warm migration");

    WarmSource off = sources.shutdown(VM, new WarmShutdownRequest(ID, 60_000, 1));
    assertThat(off.guest()).isEqualTo(WarmSource.SHUTDOWN);
    assertThat(off.pass()).as("the final pass prepared with the power-off").isEqualTo(1);
    assertThat(off.bitmap()).isEqualTo(WarmSources.BITMAP + 0);
    assertThat(off.export().disks()).extracting(d -> d.export()).containsExactly("ferry-warm-1-disk0");
    assertThat(off.shutdownMs()).isNotNull();

    List<DiskHashes> kept = sources.hashes(VM, ID);
    assertThat(vms.peek(VM).process()).as("answered while the source's QEMU stays").isPresent();
    assertThat(kept).singleElement().satisfies(h -> {
      assertThat(h.chunkBytes()).isEqualTo(1L << 20);
      assertThat(h.sha256()).as("the disk's own bytes, hashed here").containsExactly(sha256(Files.readAllBytes(disk)));
    });

    int boots = console.lines(GuestLine.Ready.class).size();
    sources.cancel(VM);

    assertThat(vms.peek(VM).process().orElseThrow().pid()).as("the same QEMU").isEqualTo(pid);
    assertThat(vms.status(VM).state()).isEqualTo(VmState.RUNNING);
    long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (console.lines(GuestLine.Ready.class).size() <= boots && System.nanoTime() < until) Thread.sleep(100);
    assertThat(console.lines(GuestLine.Ready.class)).as("the guest booted again").hasSizeGreaterThan(boots);
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
