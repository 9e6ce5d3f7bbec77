package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./ferry package}: a Debian package a hosting company can install, inspected with dpkg-deb
 * and unpacked into a scratch root (installing it for real would create users on this machine).
 */
class PackageIT {

  @TempDir static Path dir;
  static Path deb;

  @BeforeAll
  static void build() throws Exception {
    Path repo = Path.of(System.getProperty("ferry.repo.root"));
    String out = ok(List.of(repo.resolve("ferry").toString(), "package", "--out", dir.resolve("out").toString()));
    deb = Path.of(out.strip().lines().reduce((a, b) -> b).orElseThrow());
  }

  @Test
  void info_declaresTheRuntimeDependencies() throws Exception {
    String info = ok(List.of("dpkg-deb", "-I", deb.toString()));

    assertThat(info).contains("Package: ferry", "Architecture: amd64")
        .containsPattern("Depends: java-runtime-headless \\(>= 21\\) \\| java21-runtime-headless[^\\n]*qemu-system-x86"
            + " \\(>= 1:7.2\\), qemu-utils \\(>= 1:7.2\\), util-linux, adduser")
        .doesNotContain("busybox").doesNotContain("gcc").doesNotContain("libnbd");
    assertThat(ok(List.of("dpkg-deb", "-f", deb.toString(), "Version"))).matches("\\d+\\.\\d+\\.\\d+\\S*\\s*");
    assertThat(ok(List.of("dpkg-deb", "--ctrl-tarfile", deb.toString()))).isNotEmpty();
  }

  @Test
  void contents_jarUnitsConfigsAndLauncher() throws Exception {
    String contents = ok(List.of("dpkg-deb", "-c", deb.toString()));

    assertThat(contents).contains("./usr/bin/ferry", "./usr/share/ferry/ferry.jar",
        "./lib/systemd/system/ferry-controller.service", "./lib/systemd/system/ferry-agent.service",
        "./etc/ferry/controller.conf", "./etc/ferry/agent.conf", "./usr/share/doc/ferry/deploy.md");
    assertThat(contents.lines().filter(l -> l.endsWith("./etc/ferry/agent.conf")).findFirst().orElseThrow())
        .as("settings may name secrets' files: not world-readable").startsWith("-rw-r-----");
  }

  @Test
  void unpacked_launcherRunsTheJarAndUnitsVerify() throws Exception {
    Path root = Files.createDirectories(dir.resolve("root"));
    ok(List.of("dpkg-deb", "-x", deb.toString(), root.toString()));
    Path control = Files.createDirectories(dir.resolve("control"));
    ok(List.of("dpkg-deb", "-e", deb.toString(), control.toString()));

    assertThat(ok(List.of(root.resolve("usr/bin/ferry").toString(), "--version"))).startsWith("ferry ");
    assertThat(Files.readString(control.resolve("conffiles"))).contains("/etc/ferry/agent.conf", "/etc/ferry/controller.conf");
    assertThat(Files.readString(control.resolve("postinst"))).contains("ferry-qemu").contains("adduser --system");
    String agent = Files.readString(root.resolve("lib/systemd/system/ferry-agent.service"));
    assertThat(agent).contains("ExecStart=/usr/bin/ferry agent --config /etc/ferry/agent.conf", "KillMode=process",
        "DeviceAllow=/dev/kvm rw", "DeviceAllow=/dev/net/tun rw", "NoNewPrivileges=true", "PrivateTmp=true",
        "ProtectSystem=full");
    String controller = Files.readString(root.resolve("lib/systemd/system/ferry-controller.service"));
    assertThat(controller).contains("User=ferry", "ProtectSystem=strict", "CapabilityBoundingSet=\n", "PrivateDevices=true");
    // the units as systemd reads them: an unknown or misspelt directive fails here
    if (Files.isExecutable(Path.of("/usr/bin/systemd-analyze"))) {
      Command.Result r = run(List.of("systemd-analyze", "verify", "--man=no", "--root=" + root,
          "/lib/systemd/system/ferry-agent.service", "/lib/systemd/system/ferry-controller.service"));
      assertThat(r.out() + r.err()).as(r.toString()).doesNotContain("Unknown key").doesNotContain("Unknown section")
          .doesNotContain("Failed to parse").doesNotContain("not executable");
    }
  }

  /** The agent's shipped settings file is accepted by the agent it ships with. */
  @Test
  void shippedConfigs_haveOnlyKnownKeys() throws Exception {
    Path root = Files.createDirectories(dir.resolve("root2"));
    ok(List.of("dpkg-deb", "-x", deb.toString(), root.toString()));
    for (String daemon : List.of("agent", "controller")) {
      Path conf = root.resolve("etc/ferry/" + daemon + ".conf");
      var settings = ConfigFile.read(conf, Main.commandLine().getSubcommands().get(daemon).getCommandSpec());
      assertThat(settings).containsKey("data");
    }
  }


  private static String ok(List<String> cmd) throws Exception {
    Command.Result r = run(cmd);
    if (r.exit() != 0) throw new AssertionError(cmd + " failed: " + r);
    return r.out();
  }

  private static Command.Result run(List<String> cmd) throws Exception {
    return Command.run(new ProcessBuilder(cmd), java.time.Duration.ofMinutes(3));
  }
}
