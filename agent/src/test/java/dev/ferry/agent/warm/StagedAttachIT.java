package dev.ferry.agent.warm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.agent.cold.ImageHashes;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.ColdCopyRequest;
import dev.ferry.api.agent.ColdExport;
import dev.ferry.api.agent.WarmCopyRequest;
import dev.ferry.api.agent.WarmCopyStatus;
import dev.ferry.api.agent.WarmPassCopy;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.block.BlockDeviceInfo;
import dev.ferry.qmp.block.QueryNamedBlockNodes;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.GuestLine;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A warm cutover's target, with real QEMU, {@code qemu-storage-daemon} and the test guest: the VM
 * is staged on the copy's image while the copier's writer still holds it, the copy's attach after
 * the last pass stops the writer and puts the image under the device with the guest still paused,
 * an agent restarted then (its QEMU re-adopted) still starts that QEMU rather than refusing a
 * paused VM, and the guest boots on the image. The source's export is {@code qemu-nbd}, read-only,
 * as a stopped VM's is; pass 0 needs no dirty bitmap.
 */
class StagedAttachIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perTest();

  private static final String VM = "web";
  private static final String ID = "6a1f0e2d-3c4b-4a59-8d7e-0f1a2b3c4d5e";
  private static final long SIZE = 64L << 20;

  @TempDir Path dir;
  private Process nbd;
  private Vms vms;
  private WarmCopies copies;

  @AfterEach
  void stop() throws Exception {
    if (vms != null) vms.detachAll();
    // stops the copy's qemu-storage-daemon should the test end before the attach does
    if (copies != null) {
      try {
        copies.cancel(ID);
      } catch (dev.ferry.agent.AgentException e) {
        // the images belong to the VM: kept, the writer stopped all the same
      }
    }
    if (nbd != null) {
      nbd.destroy();
      if (!nbd.waitFor(5, TimeUnit.SECONDS)) nbd.destroyForcibly();
    }
  }

  @Test
  void stagedWhileTheWriterHoldsTheImage_attachedAfterTheLastPass_survivesARestart_thenBoots() throws Exception {
    GuestHost h2 = GuestHost.in(dir, "h2");
    Path daemon = Path.of("/usr/bin/qemu-storage-daemon");
    Path qemuImg = Path.of("/usr/bin/qemu-img");
    vms = Vms.load(h2.data(), "h2", h2.pools(), h2.host());
    copies = new WarmCopies(h2.data(), h2.pools(), vms, daemon, qemuImg, null, new ImageHashes(daemon, qemuImg));

    ColdExport export = serveSource();
    copies.start(ID, new WarmCopyRequest(VM, export, List.of(new ColdCopyRequest.Disk("disk0", "local", "qcow2")), 0));
    copies.pass(ID, new WarmPassCopy(0, export, null));
    WarmCopyStatus copied = awaitCopied(copies);
    Path image = Path.of(copied.disks().getFirst().path());
    vms.define(VM, new AgentVmDefinition(VM, 1, 128L << 20, "q35", null, h2.kernel().toString(), h2.initrd().toString(),
        TestGuest.append(""), List.of(new AgentDisk("disk0", image.toString(), "qcow2")), List.of()));

    AgentVmStatus staged = vms.stage(VM);
    owned.own(staged.pid());
    assertThat(staged.state()).isEqualTo(VmState.PAUSED);

    copies.attach(ID);

    assertThat(vms.status(VM).state()).as("attached, the guest not resumed").isEqualTo(VmState.PAUSED);
    copies.attach(ID);
    vms.detachAll(); // like an agent crash: QEMU stays, its monitor free for this test
    try (QmpClient qmp = QmpClient.connect(vms.runDirOf(VM).qmpSocket(), Duration.ofSeconds(5))) {
      assertThat(qmp.call(new QueryNamedBlockNodes())).extracting(BlockDeviceInfo::nodeName)
          .as("the image under the device, the placeholder left as the mark of a guest never run")
          .containsExactlyInAnyOrder("disk0", "disk0-file", "disk0-placeholder");
    }
    vms = Vms.load(h2.data(), "h2", h2.pools(), h2.host());
    assertThat(vms.status(VM).state()).as("re-adopted").isEqualTo(VmState.PAUSED);

    AgentVmStatus started = vms.start(VM);

    assertThat(started.state()).isEqualTo(VmState.RUNNING);
    assertThat(started.pid()).as("the staged QEMU, not a new one").isEqualTo(staged.pid());
    GuestConsole console = new GuestConsole(vms.runDirOf(VM).console());
    GuestLine.Heartbeat hb = console.await(GuestLine.Heartbeat.class, Duration.ofSeconds(90));
    console.awaitHeartbeatAfter(hb.seq(), Duration.ofSeconds(10));
    vms.detachAll();
    try (QmpClient qmp = QmpClient.connect(vms.runDirOf(VM).qmpSocket(), Duration.ofSeconds(5))) {
      assertThat(qmp.call(new QueryNamedBlockNodes())).extracting(BlockDeviceInfo::nodeName)
          .as("a plain start's nodes, nothing staged left").containsExactlyInAnyOrder("disk0", "disk0-file");
    }
    vms = Vms.load(h2.data(), "h2", h2.pools(), h2.host());
  }

  @Test
  void finalPassWrittenThroughTheStagedQemu_thenAttachedWithTheLastWrites_thenBoots() throws Exception {
    Staged st = stagedBetweenPasses();

    copies.openForFinalPass(VM);

    assertThat(Files.readString(st.writer())).as("the staged QEMU is the copy's writer now")
        .contains("\"in_qemu\" : true").contains(Long.toString(st.vm().pid()));
    assertThat(vms.runDirOf(VM).finalPassSocket()).as("its NBD server").exists();
    finalPassThenAttach(st);
  }

  @Test
  void agentRestartedBetweenTheHandOverAndTheFinalPass_theStagedQemuStillWritesAndIsAttached() throws Exception {
    Staged st = stagedBetweenPasses();
    copies.openForFinalPass(VM);

    vms.detachAll(); // like an agent crash: QEMU stays, and what this agent knew of its nodes is gone
    vms = Vms.load(st.host().data(), "h2", st.host().pools(), st.host().host());
    copies = newCopies(st.host());

    assertThat(Files.readString(st.writer())).as("a restarted agent keeps the living QEMU as the writer")
        .contains("\"in_qemu\" : true");
    finalPassThenAttach(st);
  }

  /** The copy after pass 0 (the writer daemon holds its image) and the VM staged on it. */
  private record Staged(GuestHost host, Path image, Path writer, AgentVmStatus vm) {}

  private Staged stagedBetweenPasses() throws Exception {
    GuestHost h2 = GuestHost.in(dir, "h2");
    vms = Vms.load(h2.data(), "h2", h2.pools(), h2.host());
    copies = newCopies(h2);
    ColdExport export = serveSource();
    copies.start(ID, new WarmCopyRequest(VM, export, List.of(new ColdCopyRequest.Disk("disk0", "local", "qcow2")), 0));
    copies.pass(ID, new WarmPassCopy(0, export, null));
    Path image = Path.of(awaitCopied(copies).disks().getFirst().path());
    vms.define(VM, new AgentVmDefinition(VM, 1, 128L << 20, "q35", null, h2.kernel().toString(), h2.initrd().toString(),
        TestGuest.append(""), List.of(new AgentDisk("disk0", image.toString(), "qcow2")), List.of()));
    AgentVmStatus staged = vms.stage(VM);
    owned.own(staged.pid());
    return new Staged(h2, image, h2.data().resolve("warm/copies/" + ID + ".writer"), staged);
  }

  /** The copies of this test's host, over its {@link #vms}. */
  private WarmCopies newCopies(GuestHost h) {
    Path daemon = Path.of("/usr/bin/qemu-storage-daemon");
    Path qemuImg = Path.of("/usr/bin/qemu-img");
    return new WarmCopies(h.data(), h.pools(), vms, daemon, qemuImg, null, new ImageHashes(daemon, qemuImg));
  }

  /**
   * The source's last writes (1 MiB, which grows the target's qcow2) copied by a final pass over
   * their bitmap, the copy attached: the export gone, the image under the device, identical to the
   * source, and the guest boots in the staged QEMU.
   */
  private void finalPassThenAttach(Staged st) throws Exception {
    ColdExport last = serveSourceAgain("ferry-warm-0", "write -P 0x66 40M 1M");
    copies.pass(ID, new WarmPassCopy(1, last, "ferry-warm-0", true));
    WarmCopyStatus done = awaitCopied(copies);
    assertThat(done.pass()).isEqualTo(1);
    assertThat(done.passCopiedBytes()).as("only the dirty MiB").isEqualTo(1L << 20);

    copies.attach(ID);

    assertThat(Files.exists(st.writer())).as("the writer forgotten").isFalse();
    vms.detachAll();
    try (QmpClient qmp = QmpClient.connect(vms.runDirOf(VM).qmpSocket(), Duration.ofSeconds(5))) {
      assertThat(qmp.call(new QueryNamedBlockNodes())).extracting(BlockDeviceInfo::nodeName)
          .as("the image under the device, the placeholder left as the mark of a guest never run")
          .containsExactlyInAnyOrder("disk0", "disk0-file", "disk0-placeholder");
      assertThat(qmp.call(new dev.ferry.qmp.export.QueryBlockExports())).as("the final pass's export gone").isEmpty();
    }
    // what the guest will read: the image as the staged QEMU has it, identical to the source's
    run("qemu-img", "compare", "-U", "-f", "qcow2", "-F", "qcow2", dir.resolve("src.qcow2").toString(),
        st.image().toString());
    vms = Vms.load(st.host().data(), "h2", st.host().pools(), st.host().host());
    AgentVmStatus started = vms.start(VM);
    assertThat(started.pid()).as("the staged QEMU, not a new one").isEqualTo(st.vm().pid());
    GuestConsole console = new GuestConsole(vms.runDirOf(VM).console());
    GuestLine.Heartbeat hb = console.await(GuestLine.Heartbeat.class, Duration.ofSeconds(90));
    console.awaitHeartbeatAfter(hb.seq(), Duration.ofSeconds(10));
  }

  /** A qcow2 with data, exported read-only by {@code qemu-nbd} over TCP. */
  private ColdExport serveSource() throws Exception {
    Path source = dir.resolve("src.qcow2");
    run("qemu-img", "create", "-q", "-f", "qcow2", source.toString(), Long.toString(SIZE));
    run("qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 8M 4M", source.toString());
    return serve(source, null);
  }

  /**
   * The source written again with {@code write} (a qemu-io command) after a persistent bitmap
   * {@code bitmap} started recording, then served with that bitmap, as a source QEMU serves a pass.
   */
  private ColdExport serveSourceAgain(String bitmap, String write) throws Exception {
    nbd.destroy();
    assertThat(nbd.waitFor(5, TimeUnit.SECONDS)).isTrue();
    Path source = dir.resolve("src.qcow2");
    run("qemu-img", "bitmap", "--add", "--enable", source.toString(), bitmap);
    run("qemu-io", "-f", "qcow2", "-c", write, source.toString());
    // a read-only export refuses a bitmap that still records
    run("qemu-img", "bitmap", "--disable", source.toString(), bitmap);
    return serve(source, bitmap);
  }

  private ColdExport serve(Path source, String bitmap) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    List<String> cmd = new java.util.ArrayList<>(List.of("qemu-nbd", "--bind=127.0.0.1", "--port=" + port,
        "--format=qcow2", "--read-only", "--persistent", "--shared=8", "--export-name=web-disk0"));
    if (bitmap != null) cmd.add("--bitmap=" + bitmap);
    cmd.add(source.toString());
    nbd = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(dir.resolve("qemu-nbd.log").toFile()).start();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (true) {
      try (var probe = new java.net.Socket("127.0.0.1", port)) {
        break;
      } catch (java.io.IOException e) {
        if (!nbd.isAlive() || System.nanoTime() > until) {
          throw new AssertionError("qemu-nbd: " + Files.readString(dir.resolve("qemu-nbd.log")));
        }
        Thread.sleep(20);
      }
    }
    return new ColdExport(ID, "127.0.0.1", port, false, nbd.pid(),
        List.of(new ColdExport.ColdExportDisk("disk0", "web-disk0", "qcow2", SIZE)));
  }

  private static WarmCopyStatus awaitCopied(WarmCopies copies) throws Exception {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < until) {
      WarmCopyStatus s = copies.status(ID);
      if (!s.state().equals(WarmCopyStatus.COPYING)) {
        assertThat(s.state()).as(s.toString()).isEqualTo(WarmCopyStatus.COPIED);
        return s;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("pass 0 did not end: " + copies.status(ID));
  }

  private static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).inheritIO().start();
    assertThat(p.waitFor()).as(String.join(" ", cmd)).isZero();
  }
}
