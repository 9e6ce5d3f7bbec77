package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code ./ferry} as a user runs it on a machine without QEMU. Before issue 10 every command,
 * {@code --help} included, ran the test toolchain's package check and as root installed qemu, gcc,
 * busybox and a PostgreSQL server with apt. Here the PATH has no qemu at all and its first
 * directory holds an {@code apt-get} (and friends) that only records being called: the launcher
 * must print help and never call them.
 */
class LauncherIT {

  static final List<String> PACKAGE_TOOLS = List.of("apt-get", "apt", "apt-cache", "dpkg", "sudo");

  /** Not a @TempDir: JUnit warns about every symbolic link it deletes, and there are thousands. */
  Path tmp;

  Path calls;
  String path;

  @BeforeEach
  void machineWithoutQemu() throws IOException {
    tmp = Files.createTempDirectory("ferry-launcher-it");
    calls = tmp.resolve("package-tool-calls.log");
    Path fake = Files.createDirectories(tmp.resolve("fake-bin"));
    for (String tool : PACKAGE_TOOLS) {
      Path f = fake.resolve(tool);
      Files.writeString(f, "#!/bin/sh\necho \"" + tool + " $*\" >> " + calls + "\nexit 0\n");
      Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    // every command of /usr/bin and /bin except QEMU's and the package tools
    Path bin = Files.createDirectories(tmp.resolve("bin"));
    for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
      try (Stream<Path> files = Files.list(Path.of(dir))) {
        for (Path f : files.toList()) {
          String n = f.getFileName().toString();
          if (n.startsWith("qemu") || PACKAGE_TOOLS.contains(n) || Files.exists(bin.resolve(n), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            continue;
          }
          Files.createSymbolicLink(bin.resolve(n), f);
        }
      }
    }
    path = fake + ":" + bin;
  }

  @AfterEach
  void removeTmp() throws IOException {
    try (Stream<Path> all = Files.walk(tmp)) { // walk does not follow links: only our files go
      for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }

  @Test
  void help_withoutQemu_printsHelpAndInstallsNothing() throws Exception {
    Path root = Path.of(System.getProperty("ferry.repo.root"));
    Command.Result r = run(root.resolve("ferry"), Map.of(), "--help");

    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).as(r.toString()).contains("Usage: ferry").contains("agent").contains("controller");
    assertThat(r.err()).as("no package check, no build: %s", r).doesNotContain("bootstrap").doesNotContain("building");
    assertThat(calls).as("apt-get/dpkg/sudo called: %s", r).doesNotExist();
    assertThat(run(Path.of("sh"), Map.of(), "-c", "command -v qemu-system-x86_64").exit()).as("the PATH still finds qemu").isNotZero();
  }

  @Test
  void version_asRootWithoutQemu_installsNothing() throws Exception {
    Path root = Path.of(System.getProperty("ferry.repo.root"));
    Command.Result r = run(root.resolve("ferry"), Map.of(), "--version");

    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).as(r.toString()).startsWith("ferry ");
    assertThat(calls).as("apt-get/dpkg/sudo called: %s", r).doesNotExist();
  }

  /** A copy of the launcher without a jar and without sources: one line says what is missing. */
  @Test
  void help_withoutBuiltJar_saysSoInOneLineAndInstallsNothing() throws Exception {
    Path repo = Path.of(System.getProperty("ferry.repo.root"));
    Path copy = Files.createDirectories(tmp.resolve("copy/scripts"));
    Files.copy(repo.resolve("ferry"), copy.getParent().resolve("ferry"));
    Files.copy(repo.resolve("scripts/find-jdk.sh"), copy.resolve("find-jdk.sh"));
    Files.copy(repo.resolve("scripts/bootstrap.sh"), copy.resolve("bootstrap.sh"));
    Command.Result r = run(copy.getParent().resolve("ferry"), Map.of(), "--help");

    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().strip().lines()).as(r.toString()).hasSize(1);
    assertThat(r.err()).startsWith("ferry: no built jar at ");
    assertThat(calls).as("apt-get/dpkg/sudo called: %s", r).doesNotExist();
  }

  /** demo/test/bench, on the other hand, say what they check before doing anything. */
  @Test
  void demo_withoutQemu_saysWhatItChecksAndWhatItInstalls() throws Exception {
    Path repo = Path.of(System.getProperty("ferry.repo.root"));
    // bootstrap alone (not the demo): as root it would install with the fake apt-get, which records it
    Command.Result r = run(Path.of("bash"), Map.of(), repo.resolve("scripts/bootstrap.sh").toString(), "demo");

    assertThat(r.err()).as(r.toString()).contains("ferry bootstrap: ./ferry demo checks the packages it needs: runtime (");
    if (isRoot()) {
      assertThat(r.err()).as(r.toString()).contains("installing missing packages: qemu-system-x86 qemu-utils");
      assertThat(Files.readString(calls)).contains("apt-get install").contains("qemu-system-x86")
          .doesNotContain("postgresql").doesNotContain("libnbd-bin");
    } else {
      assertThat(r.exit()).isEqualTo(1);
      assertThat(r.err()).contains("missing packages: qemu-system-x86 qemu-utils");
    }
  }

  private static boolean isRoot() throws Exception {
    Process p = new ProcessBuilder("id", "-u").start();
    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip().equals("0");
  }


  private Command.Result run(Path program, Map<String, String> env, String... args) throws Exception {
    var cmd = new java.util.ArrayList<String>();
    cmd.add(program.toString());
    cmd.addAll(List.of(args));
    var pb = new ProcessBuilder(cmd);
    pb.environment().put("PATH", path);
    pb.environment().remove("JAVA_HOME");
    pb.environment().putAll(env);
    return Command.run(pb, java.time.Duration.ofMinutes(2));
  }
}
