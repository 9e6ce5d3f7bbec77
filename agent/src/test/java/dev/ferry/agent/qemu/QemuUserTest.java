package dev.ferry.agent.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Who QEMU runs as, and that what it is handed is its own and private, whatever the umask. */
class QemuUserTest {

  /** a user that owns nothing here; only a root agent can hand files to it */
  static final QemuUser OTHER = new QemuUser("nobody", 65534, 65534, true);

  @TempDir Path tmp;

  @Test
  void wrap_dropping_startsQemuThroughSetprivWithAPrivateUmask() {
    List<String> cmd = OTHER.wrap(List.of("/usr/bin/qemu-system-x86_64", "-name", "web"));

    assertThat(cmd).startsWith("/bin/sh", "-c", "umask 077 && exec \"$@\"", "qemu", "setpriv", "--reuid=65534", "--regid=65534",
        "--init-groups", "--no-new-privs", "--", "/usr/bin/qemu-system-x86_64");
    assertThat(cmd).endsWith("-name", "web");
  }

  @Test
  void wrap_notDropping_onlySetsTheUmask() {
    List<String> cmd = QemuUser.current().wrap(List.of("/usr/bin/qemu-system-x86_64"));

    assertThat(cmd).containsExactly("/bin/sh", "-c", "umask 077 && exec \"$@\"", "qemu", "/usr/bin/qemu-system-x86_64");
  }

  @Test
  void handOverRunDir_filesOfAnEarlierRunUnderUmask022_becomeTheUsers0600AndTheDir0700() throws Exception {
    assumeRoot();
    RunDir run = new RunDir(tmp.resolve("vms/web/run"));
    Files.createDirectories(run.dir(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Files.writeString(run.console(), "old console");
    Files.setPosixFilePermissions(run.console(), PosixFilePermissions.fromString("rw-r--r--"));
    Files.writeString(run.qemuLog(), "old log");
    Files.setPosixFilePermissions(run.qemuLog(), PosixFilePermissions.fromString("rw-r--r--"));

    OTHER.handOverRunDir(run);

    assertMode(run.dir(), "rwx------", 65534);
    assertMode(run.console(), "rw-------", 65534);
    assertMode(run.qemuLog(), "rw-------", 0); // the agent's: QEMU writes it through an inherited descriptor
  }

  @Test
  void handOver_image_becomesTheUsers0600() throws Exception {
    assumeRoot();
    Path image = Files.writeString(tmp.resolve("web-disk0.qcow2"), "x");
    Files.setPosixFilePermissions(image, PosixFilePermissions.fromString("rw-r--r--"));

    OTHER.handOver(image);

    assertMode(image, "rw-------", 65534);
  }

  @Test
  void unreachable_aPrivateDirectoryOnTheWay_isNamed() throws Exception {
    Path closed = Files.createDirectories(tmp.resolve("closed"));
    Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
    Path pool = Files.createDirectories(closed.resolve("pool"));
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx--x--x"));

    assertThat(OTHER.unreachable(pool)).contains("cannot enter " + closed).contains("rwx------").contains("chmod o+x");
    Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx--x--x"));
    assertThat(OTHER.unreachable(pool)).isNull();
    assertThat(QemuUser.current().unreachable(Path.of("/root/anything"))).as("nothing to drop, nothing to check").isNull();
  }

  /** A root agent opens /dev/kvm where its QEMU user cannot: the probe must ask for that user. */
  @Test
  void cannotReadWrite_aDevicePrivateToItsOwner_namesModeGroupAndTheWayOut() throws Exception {
    Path device = Files.writeString(tmp.resolve("kvm"), "");
    Files.setPosixFilePermissions(device, PosixFilePermissions.fromString("rw-------"));

    assertThat(OTHER.cannotReadWrite(device)).startsWith(device + " cannot be opened read-write by QEMU user nobody")
        .contains("rw-------").contains("add nobody to group");
    Files.setPosixFilePermissions(device, PosixFilePermissions.fromString("rw-rw-rw-"));
    assertThat(OTHER.cannotReadWrite(device)).isNull();
    Files.setPosixFilePermissions(device, PosixFilePermissions.fromString("rw-------"));
    assertThat(QemuUser.current().cannotReadWrite(device)).as("QEMU runs as the agent: its own open decides").isNull();
  }

  @Test
  void postcopyProblem_unprivilegedQemuWithoutUnprivilegedUserfaultfd_namesTheSysctlAndTheWayOut() throws Exception {
    Path sysctl = Files.writeString(tmp.resolve("unprivileged_userfaultfd"), "0\n");

    assertThat(OTHER.postcopyProblem(sysctl)).contains("QEMU runs as user nobody").contains("vm.unprivileged_userfaultfd is 0")
        .contains("sysctl -w vm.unprivileged_userfaultfd=1").contains("--postcopy never");
    Files.writeString(sysctl, "1\n");
    assertThat(OTHER.postcopyProblem(sysctl)).isNull();
    assertThat(OTHER.postcopyProblem(tmp.resolve("absent"))).as("a kernel without the switch").isNull();
    Files.writeString(sysctl, "0\n");
    assertThat(new QemuUser("root", 0, 0, false).postcopyProblem(sysctl)).as("root QEMU has CAP_SYS_PTRACE").isNull();
  }

  private static void assertMode(Path p, String mode, int uid) throws Exception {
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p))).as(p.toString()).isEqualTo(mode);
    assertThat(Files.getAttribute(p, "unix:uid")).as(p.toString()).isEqualTo(uid);
  }

  private static void assumeRoot() {
    assumeTrue(QemuUser.current().uid() == 0, "only root can hand files to another user");
  }
}
