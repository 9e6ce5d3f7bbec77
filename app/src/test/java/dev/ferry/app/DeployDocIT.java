package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/deploy.md followed as written: the {@code .deb} that {@code ./ferry package} builds, then
 * every block marked {@code on=controller|host1|host2|all}, in order, each run by bash inside the
 * network namespace of its machine ({@link NetnsTopology}). The doc and the test cannot drift: the
 * commands come from the doc. The few rewrites the doc itself lists (addresses, the machine's
 * {@code /etc/ferry}, {@code /var/lib/ferry} and {@code /usr} under a directory per machine, the
 * shared {@code /srv/ferry}, {@code sudo} dropped) are the only ones; {@code apt} and
 * {@code systemctl} are the two scripts in {@code app/src/test/deploy-doc-bin}, which unpack the
 * package and run the units' {@code ExecStart}. What a reader carries between machines by hand (the
 * controller's secret, each agent's certificate directory from {@code ferry ca issue}) the test
 * carries. The cluster runs HTTPS only: agents are reached at {@code https://} URLs, the CLI trusts
 * the cluster CA alone.
 */
class DeployDocIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir static Path dir;

  static final Pattern BLOCK = Pattern.compile("^```sh on=(\\S+)\\n(.*?)^```$", Pattern.MULTILINE | Pattern.DOTALL);
  static final List<String> MACHINES = List.of("controller", "host1", "host2");
  static final Map<String, String> DOC_ADDRESSES = Map.of("controller", "192.0.2.10", "host1", "192.0.2.11",
      "host2", "192.0.2.12");
  static final String TOKEN_PLACEHOLDER = "TOKEN-FROM-THE-CONTROLLER";

  private static NetnsTopology topology;

  record Block(String on, String text) {}

  /** The marked blocks of the doc, in order. */
  static List<Block> blocks(String markdown) {
    List<Block> blocks = new ArrayList<>();
    Matcher m = BLOCK.matcher(markdown);
    while (m.find()) blocks.add(new Block(m.group(1), m.group(2)));
    return blocks;
  }

  @Test
  void deployDoc_followedOnThreeMachines_endsWithALiveMigration() throws Exception {
    Path repo = Path.of(System.getProperty("ferry.repo.root"));
    List<Block> blocks = blocks(Files.readString(repo.resolve("docs/deploy.md")));
    assertThat(blocks).extracting(Block::on).contains("all", "controller", "host1", "host2");

    Path debDir = Files.createDirectories(dir.resolve("deb"));
    Command.Result packaged = run(List.of(repo.resolve("ferry").toString(), "package", "--out", debDir.toString()), Map.of(), repo);
    assertThat(packaged.exit()).as(packaged.toString()).isZero();
    Path deb = Path.of(packaged.out().strip().lines().reduce((a, b) -> b).orElseThrow());
    assertThat(deb).exists().hasParent(debDir);

    Path bin = fakeTools(repo);
    Map<String, Path> roots = new LinkedHashMap<>();
    for (String m : MACHINES) roots.put(m, Files.createDirectories(dir.resolve("machines").resolve(m)));
    Path shared = Files.createDirectories(dir.resolve("srv-ferry"));
    // "put your kernel and initrd into /srv/ferry/shared first"
    Path guest = Files.createDirectories(shared.resolve("shared"));
    Files.copy(TestGuest.get().kernel(), guest.resolve("vmlinuz"), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(TestGuest.get().initrd(), guest.resolve("initrd.img"), StandardCopyOption.REPLACE_EXISTING);

    topology = NetnsTopology.create(MACHINES);
    String lastOutput = "";
    GuestConsole source = new GuestConsole(roots.get("host1").resolve("var/lib/ferry/agent/vms/web/run/console.log"));
    dev.ferry.testsupport.GuestLine.Heartbeat before = null;
    for (Block b : blocks) {
      if (b.text().contains("ferry migrate live")) {
        // the guest's own record of its boot, before it moves (host1 forgets the VM once it left)
        before = source.awaitHeartbeatAfter(1, Duration.ofSeconds(120));
      }
      List<String> on = b.on().equals("all") ? MACHINES : List.of(b.on());
      for (String machine : on) {
        assertThat(MACHINES).as("block marked on=%s", b.on()).contains(machine);
        carryCertificates(machine, roots);
        carryCredential(machine, roots);
        String script = rewrite(b.text(), roots.get(machine), shared, roots.get("controller"));
        Command.Result r = run(topology.node(machine).inside(List.of("bash", "-euo", "pipefail", "-c", script)),
            Map.of("PATH", bin + ":" + roots.get(machine).resolve("usr/bin") + ":" + System.getenv("PATH"),
                "FERRY_TEST_ROOT", roots.get(machine).toString()),
            debDir);
        ownDaemons(roots);
        assertThat(r.exit()).as("block on %s:%n%s%n%s%nlogs:%n%s", machine, b.text(), r, logs(roots)).isZero();
        lastOutput = r.out();
        if (script.contains("systemctl enable --now ferry-controller")) awaitController(roots);
        if (script.contains("systemctl enable --now ferry-agent")) awaitOnline(machine, roots);
      }
    }

    // the last block's `ferry vm show web`: the VM runs on host2 now
    assertThat(lastOutput).contains("host2");
    FerryProcess ferry = cli(roots);
    JsonNode vm = ferry.ok("vm", "show", "web", "--json").json();
    assertThat(vm.get("host").asText()).isEqualTo("host2");
    assertThat(vm.get("state").asText()).isEqualTo("running");
    owned.own(vm.get("pid").asLong());
    JsonNode migrations = ferry.ok("migration", "list", "--json").json();
    assertThat(migrations).singleElement().satisfies(m -> {
      assertThat(m.get("status").asText()).isEqualTo("succeeded");
      assertThat(m.get("source").asText()).isEqualTo("host1");
    });
    JsonNode hosts = ferry.ok("host", "list", "--json").json();
    assertThat(hosts).hasSize(2).allSatisfy(h -> {
      assertThat(h.get("state").asText()).isEqualTo("online");
      assertThat(h.get("url").asText()).as("agents are reached over HTTPS").startsWith("https://");
      assertThat(h.get("accelerator_probe").asText()).isNotBlank();
    });
    GuestConsole target = new GuestConsole(roots.get("host2").resolve("var/lib/ferry/agent/vms/web/run/console.log"));
    assertThat(before).as("the doc has a block with ferry migrate live").isNotNull();
    assertThat(target.awaitHeartbeatAfter(before.seq() + 2, Duration.ofSeconds(60)).boot()).as("the same boot, moved")
        .isEqualTo(before.boot());
    target.assertClean();
  }

  @AfterAll
  static void down() throws IOException {
    if (dir != null && Files.isDirectory(dir.resolve("machines"))) {
      try (Stream<Path> files = Files.find(dir.resolve("machines"), 12,
          (p, a) -> p.getFileName().toString().equals("qemu.pid"))) {
        files.forEach(p -> {
          try {
            owned.own(Long.parseLong(Files.readString(p).strip()));
          } catch (IOException | NumberFormatException e) {
            // no pid in it: nothing to kill
          }
        });
      }
    }
    owned.killAll();
    if (topology != null) {
      topology.close();
      assertThat(topology.anyLeft()).as("every namespace removed").isFalse();
    }
  }

  /** The doc's own list of rewrites, and nothing else. */
  static String rewrite(String text, Path root, Path shared, Path controllerRoot) throws IOException {
    String s = text.replace("sudo ", "")
        .replace("/etc/ferry", root + "/etc/ferry")
        .replace("/var/lib/ferry", root + "/var/lib/ferry")
        .replace("/srv/ferry", shared.toString())
        .replace("/root/", root + "/root/");
    for (var e : DOC_ADDRESSES.entrySet()) s = s.replace(e.getValue(), topology.node(e.getKey()).address());
    if (s.contains(TOKEN_PLACEHOLDER)) {
      // what the reader copies from the controller's screen
      s = s.replace(TOKEN_PLACEHOLDER, Files.readString(controllerRoot.resolve("var/lib/ferry/controller/token")).strip());
    }
    return s;
  }

  private static Path fakeTools(Path repo) throws IOException {
    Path bin = Files.createDirectories(dir.resolve("fake-bin"));
    for (String tool : List.of("apt", "systemctl")) {
      Path f = Files.copy(repo.resolve("app/src/test/deploy-doc-bin").resolve(tool), bin.resolve(tool),
          StandardCopyOption.REPLACE_EXISTING);
      Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    return bin;
  }

  /** The daemons the units started, by the pid files the test's systemctl wrote. */
  private static void ownDaemons(Map<String, Path> roots) throws IOException {
    for (Path root : roots.values()) {
      Path run = root.resolve("run");
      if (!Files.isDirectory(run)) continue;
      try (Stream<Path> pids = Files.list(run)) {
        for (Path p : pids.filter(f -> f.toString().endsWith(".pid")).toList()) {
          owned.own(Long.parseLong(Files.readString(p).strip()));
        }
      }
    }
  }

  private static FerryProcess cli(Map<String, Path> roots) throws IOException {
    String token = Files.readString(roots.get("controller").resolve("var/lib/ferry/controller/token")).strip();
    return new FerryProcess(dir.resolve("cli")).withEnv("FERRY_TOKEN", token)
        .withEnv("FERRY_CONTROLLER", "https://" + topology.node("controller").address() + ":7400")
        .withEnv("FERRY_CA", roots.get("controller").resolve("etc/ferry/tls/ca-cert.pem").toString())
        .withPrefix(topology.node("controller").inside(List.of()));
  }

  /** "Copy /root/tls-hostN to hostN as /etc/ferry/tls": what the reader carries, once it exists. */
  private static void carryCertificates(String machine, Map<String, Path> roots) throws IOException {
    Path from = roots.get("controller").resolve("root/tls-" + machine);
    Path to = roots.get(machine).resolve("etc/ferry/tls");
    if (!Files.isDirectory(from) || Files.isDirectory(to)) return;
    Files.createDirectories(to, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwx------")));
    try (Stream<Path> files = Files.list(from)) {
      for (Path f : files.toList()) Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
    }
  }

  /** "Copy /root/hostN.credential to hostN as /etc/ferry/agent.credential, mode 0600". */
  private static void carryCredential(String machine, Map<String, Path> roots) throws IOException {
    Path from = roots.get("controller").resolve("root/" + machine + ".credential");
    Path to = roots.get(machine).resolve("etc/ferry/agent.credential");
    if (!Files.isRegularFile(from) || Files.exists(to)) return;
    Files.createDirectories(to.getParent());
    Files.copy(from, to);
    Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-------"));
  }

  /** The unit returns once the daemon was started, as systemd's does; a reader waits for it to answer. */
  private static void awaitController(Map<String, Path> roots) throws Exception {
    Path token = roots.get("controller").resolve("var/lib/ferry/controller/token");
    NamespacedCluster.await("the controller's token file", () -> Files.isRegularFile(token) && Files.size(token) > 0,
        Duration.ofSeconds(60));
    FerryProcess ferry = cli(roots);
    NamespacedCluster.await("the controller answering", () -> ferry.run("host", "list").exit() == 0, Duration.ofSeconds(60));
  }

  /** A reader waits a few seconds for the agent to show up; so does the test, at most a minute. */
  private static void awaitOnline(String host, Map<String, Path> roots) throws Exception {
    try {
      awaitOnlineOnly(host, roots);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; logs:\n" + logs(roots), e);
    }
  }

  private static void awaitOnlineOnly(String host, Map<String, Path> roots) throws Exception {
    FerryProcess ferry = cli(roots);
    NamespacedCluster.await(host + " online", () -> {
      var r = ferry.run("host", "list", "--json");
      if (r.exit() != 0) return false;
      for (JsonNode h : r.json()) {
        if (h.get("name").asText().equals(host)) return h.get("state").asText().equals("online");
      }
      return false;
    }, Duration.ofSeconds(60));
  }

  private static String logs(Map<String, Path> roots) {
    var b = new StringBuilder();
    for (var e : roots.entrySet()) {
      Path logDir = e.getValue().resolve("var/log");
      if (!Files.isDirectory(logDir)) continue;
      try (Stream<Path> files = Files.list(logDir)) {
        for (Path f : files.toList()) {
          List<String> lines = Files.readAllLines(f);
          b.append("== ").append(e.getKey()).append(' ').append(f.getFileName()).append('\n')
              .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()))).append('\n');
        }
      } catch (IOException ex) {
        b.append("(cannot read ").append(logDir).append(")\n");
      }
    }
    return b.toString();
  }


  private static Command.Result run(List<String> cmd, Map<String, String> env, Path cwd) throws Exception {
    var pb = new ProcessBuilder(cmd).directory(cwd.toFile());
    pb.environment().remove("FERRY_CONTROLLER");
    pb.environment().remove("FERRY_TOKEN");
    pb.environment().putAll(env);
    return Command.run(pb, Duration.ofMinutes(5));
  }
}
