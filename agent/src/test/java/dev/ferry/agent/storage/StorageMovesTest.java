package dev.ferry.agent.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.JsonFiles;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.agent.qemu.BlockNodes;
import dev.ferry.agent.qemu.QemuInstallation;
import dev.ferry.agent.qemu.QemuVersion;
import dev.ferry.agent.vm.QemuHost;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.MirrorRequest;
import dev.ferry.api.agent.MirrorState;
import dev.ferry.api.agent.MirrorStatus;
import dev.ferry.api.agent.VerifyResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Moves of a stopped VM's disk (qemu-img only, no QEMU) and the checks every move makes first. */
class StorageMovesTest {

  static final Path QEMU_IMG = Path.of("/usr/bin/qemu-img");

  @TempDir Path tmp;
  Pools pools;
  Vms vms;
  Path source;
  long free = Long.MAX_VALUE;
  StorageMoves moves;

  @BeforeEach
  void define() throws Exception {
    var qemu = new QemuInstallation(Path.of("/bin/false"), QEMU_IMG, new QemuVersion(7, 2, 0),
        List.of("q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)",
            "pc-q35-7.2           Standard PC (Q35 + ICH9, 2009)"));
    pools = Pools.load(tmp, "h1");
    pools.define("a", tmp.resolve("a").toString(), false);
    pools.define("b", tmp.resolve("b").toString(), false);
    vms = Vms.load(tmp, "h1", pools, new QemuHost(qemu, Accelerator.TCG));
    source = tmp.resolve("a/web-disk0.qcow2");
    run("create", "-q", "-f", "qcow2", source.toString(), "4M");
    run("io", "-f", "qcow2", "-c", "write -P 0x33 1M 512k", source.toString());
    Files.writeString(tmp.resolve("a/vmlinuz"), "kernel");
    vms.define("web", new AgentVmDefinition("web", 1, 64L << 20, "q35", null, tmp.resolve("a/vmlinuz").toString(), null,
        "", List.of(new AgentDisk("disk0", source.toString(), "qcow2"))));
    moves = new StorageMoves(vms, pools, QEMU_IMG, dir -> free, (s, e, m) -> {
      throw new AssertionError("no nbd for a stopped vm");
    });
    vms.guardStarts(moves::checkStart);
  }

  /**
   * An offline copy runs on its own thread; a test that ends while it still writes under the
   * temporary directory made JUnit's cleanup fail now and then (seen under load). Wait for it.
   */
  @AfterEach
  void letTheCopyEnd() {
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      try {
        return moves.status("web", "disk0").state() != MirrorState.RUNNING;
      } catch (AgentException gone) {
        return true;
      }
    });
  }

  @Test
  void offlineMove_stoppedVm_copiesPivotsVerifiesAndReleases() {
    StorageMoves.Started started = moves.mirror("web", "disk0", new MirrorRequest("b", "raw", 0, "s1"));

    assertThat(started.created()).isTrue();
    Path target = tmp.resolve("b/web-disk0-s1.raw");
    assertThat(started.status().targetPath()).isEqualTo(target.toString());
    assertThatThrownBy(() -> vms.start("web")).as("no start while the copy is unfinished")
        .isInstanceOf(AgentException.class).hasMessageContaining("disk0").extracting(e -> ((AgentException) e).kind())
        .isEqualTo(Kind.CONFLICT);
    await().atMost(Duration.ofSeconds(20)).until(() -> moves.status("web", "disk0").state() == MirrorState.READY);
    assertThat(moves.mirror("web", "disk0", new MirrorRequest("b", "raw", 0, "s1")).created()).isFalse();

    MirrorStatus pivoted = moves.pivot("web", "disk0");

    assertThat(pivoted.state()).isEqualTo(MirrorState.PIVOTED);
    assertThat(moves.pivot("web", "disk0")).isEqualTo(pivoted);
    assertThat(vms.peek("web").disk("disk0").path()).isEqualTo(target.toString());
    assertThat(vms.peek("web").disk("disk0").format().driver()).isEqualTo("raw");
    VerifyResult v = moves.verify("web", "disk0");
    assertThat(v.ok()).isTrue();
    assertThat(v.comparedBytes()).isEqualTo(4L << 20);
    assertThatThrownBy(() -> moves.cancel("web", "disk0")).hasMessageContaining("point of no return");

    assertThat(moves.release("web", "disk0", false).state()).isEqualTo(MirrorState.RELEASED);
    assertThat(source).doesNotExist();
    assertThat(target).exists();
    assertThat(moves.status("web", "disk0").state()).isEqualTo(MirrorState.RELEASED);
  }

  @Test
  void verify_offlineTargetChanged_reportsFirstDifference() throws Exception {
    moves.mirror("web", "disk0", new MirrorRequest("b", "qcow2", 0, "s2"));
    await().atMost(Duration.ofSeconds(20)).until(() -> moves.status("web", "disk0").state() == MirrorState.READY);
    moves.pivot("web", "disk0");
    run("io", "-f", "qcow2", "-c", "write -P 0x5a 3M 4k", tmp.resolve("b/web-disk0-s2.qcow2").toString());

    VerifyResult v = moves.verify("web", "disk0");

    assertThat(v.ok()).isFalse();
    assertThat(v.firstMismatchOffset()).isEqualTo(3L << 20);
  }

  @Test
  void cancel_offlineMove_removesTargetAndAllowsStartCheck() {
    moves.mirror("web", "disk0", new MirrorRequest("b", "raw", 0, "s3"));

    assertThat(moves.cancel("web", "disk0").state()).isEqualTo(MirrorState.NONE);

    assertThat(tmp.resolve("b/web-disk0-s3.raw")).doesNotExist();
    assertThat(moves.status("web", "disk0").state()).isEqualTo(MirrorState.NONE);
    moves.checkStart("web");
    assertThat(vms.peek("web").disk("disk0").path()).isEqualTo(source.toString());
  }

  @Test
  void mirror_poolTooFull_isInsufficientNamingPoolNeededAndFree() {
    free = 10L << 20;

    assertThatThrownBy(() -> moves.mirror("web", "disk0", new MirrorRequest("b", "raw", 0, "s4")))
        .isInstanceOf(AgentException.class)
        .hasMessageContaining("pool b").hasMessageContaining("10485760 bytes free").hasMessageContaining("needs")
        .extracting(e -> ((AgentException) e).kind()).isEqualTo(Kind.INSUFFICIENT);
    assertThat(moves.status("web", "disk0").state()).isEqualTo(MirrorState.NONE);
  }

  @Test
  void mirror_otherMoveInFlight_isConflict() {
    moves.mirror("web", "disk0", new MirrorRequest("b", "raw", 0, "s5"));

    assertThatThrownBy(() -> moves.mirror("web", "disk0", new MirrorRequest("a", "raw", 0, "s6")))
        .isInstanceOf(AgentException.class).hasMessageContaining("in flight");
  }

  @Test
  void mirror_badInput_namesTheField() {
    assertThatThrownBy(() -> moves.mirror("web", "disk0", new MirrorRequest("b", "vmdk", 0, "s7")))
        .extracting(e -> ((AgentException) e).field()).isEqualTo("format");
    assertThatThrownBy(() -> moves.mirror("web", "disk0", new MirrorRequest("b", "raw", 0, "Bad/Suffix")))
        .extracting(e -> ((AgentException) e).field()).isEqualTo("suffix");
    assertThatThrownBy(() -> moves.mirror("web", "disk0", new MirrorRequest("b", "raw", -1, "s8")))
        .extracting(e -> ((AgentException) e).field()).isEqualTo("bandwidth_bytes_per_s");
    assertThatThrownBy(() -> moves.mirror("web", "disk9", new MirrorRequest("b", "raw", 0, "s9")))
        .extracting(e -> ((AgentException) e).kind()).isEqualTo(Kind.NOT_FOUND);
    assertThatThrownBy(() -> moves.mirror("web", "disk0", new MirrorRequest("nope", "raw", 0, "s9")))
        .extracting(e -> ((AgentException) e).kind()).isEqualTo(Kind.NOT_FOUND);
  }

  @Test
  void targetNodes_longDiskAndSuffix_fitQemusNodeNameLimit() {
    BlockNodes n = MoveStart.targetNodes("abcdefghijklmnop", "a-very-long-suffix-0123456789");

    assertThat(n.file()).hasSizeLessThanOrEqualTo(31).startsWith("abcdefghijklmnop-m");
    assertThat(n.format()).isEqualTo(n.file().replace("-file", ""));
    assertThat(MoveStart.targetNodes("disk0", "r1")).isEqualTo(new BlockNodes("disk0-mr1-file", "disk0-mr1"));
  }

  @Test
  void moveRecord_json_roundTripsAndRefusesGoingBack() {
    var r = new MoveRecord("web", "disk0", "s1", MoveRecord.Mode.LIVE, MovePhase.PIVOTED, "b", 0, "/a", "qcow2",
        new BlockNodes("disk0-file", "disk0"), "/b", "raw", new BlockNodes("disk0-ms1-file", "disk0-ms1"), "move-disk0",
        42L, null, 1, 2, 3L, null, new VerifyResult(true, 2, 0, 0, null, 5), false, Instant.parse("2026-01-01T00:00:00Z"), true);
    JsonFiles.write(tmp.resolve("m.json"), r);

    assertThat(JsonFiles.read(tmp.resolve("m.json"), MoveRecord.class)).isEqualTo(r);
    assertThatThrownBy(() -> r.withPhase(MovePhase.COPYING)).isInstanceOf(IllegalStateException.class);
  }

  /**
   * Regression (issue 9 B4): QEMU killed during a pivot made the repeated pivot roll back, which
   * deleted the target although it was the only image with the guest's newest writes.
   */
  @Test
  void pivot_qemuDiedWhilePivoting_rollsForwardAndDeletesNothing() throws Exception {
    Path target = pivotingWithDeadQemu();

    MirrorStatus s = moves.pivot("web", "disk0");

    assertThat(s.state()).isEqualTo(MirrorState.PIVOTED);
    assertThat(vms.status("web").state().name()).isEqualTo("STOPPED");
    assertThat(vms.<String>withVm("web", h -> h.disk("disk0").path())).isEqualTo(target.toString());
    assertThat(target).exists();
    assertThat(source).exists();
    assertThat(moves.status("web", "disk0").state()).isEqualTo(MirrorState.PIVOTED);
    assertThatThrownBy(() -> moves.verify("web", "disk0")).isInstanceOf(AgentException.class)
        .hasMessageContaining("rolled forward");
    assertThat(moves.release("web", "disk0", true).state()).isEqualTo(MirrorState.RELEASED);
    assertThat(source).exists();
  }

  @Test
  void start_afterQemuDiedWhilePivoting_bootsFromTheTarget() throws Exception {
    Path target = pivotingWithDeadQemu();

    moves.checkStart("web");

    assertThat(vms.<String>withVm("web", h -> h.disk("disk0").path())).isEqualTo(target.toString());
    assertThat(moves.status("web", "disk0").state()).isEqualTo(MirrorState.PIVOTED);
    assertThat(target).exists();
    assertThat(source).exists();
  }

  /** A live move's record as the agent leaves it when its QEMU is SIGKILLed mid-pivot. */
  private Path pivotingWithDeadQemu() throws Exception {
    Path target = tmp.resolve("b/web-disk0-s1.qcow2");
    run("create", "-q", "-f", "qcow2", target.toString(), "4M");
    Process dead = new ProcessBuilder("true").start();
    dead.waitFor();
    var r = new MoveRecord("web", "disk0", "s1", MoveRecord.Mode.LIVE, MovePhase.PIVOTING, "b", 0, source.toString(),
        "qcow2", new BlockNodes("disk0-file", "disk0"), target.toString(), "qcow2",
        new BlockNodes("disk0-ms1-file", "disk0-ms1"), "move-disk0", dead.pid(), null, 4 << 20, 4 << 20, null, null, null,
        false, Instant.now(), false);
    MoveStore.write(tmp.resolve("vms/web"), r);
    return target;
  }

  static void run(String... args) throws Exception {
    var cmd = new java.util.ArrayList<String>();
    cmd.add(args[0].equals("io") ? "/usr/bin/qemu-io" : QEMU_IMG.toString());
    cmd.addAll(List.of(args).subList(args[0].equals("io") ? 1 : 0, args.length));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(cmd + ": " + out).isZero();
  }
}
