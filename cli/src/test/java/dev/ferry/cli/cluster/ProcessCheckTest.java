package dev.ferry.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessCheckTest {

  @TempDir Path dir;
  private Process started;

  @AfterEach
  void kill() {
    // only the process this test started, by its handle
    if (started != null) started.destroyForcibly();
  }

  /** A live process whose cmdline carries {@code --data DATA}, like a controller or agent would. */
  private Process withData(String data) throws Exception {
    // "; :" keeps sh from exec'ing sleep, which would drop the --data arguments from the cmdline
    started = new ProcessBuilder("sh", "-c", "sleep 30; :", "sh", "--data", data).start();
    return started;
  }

  @Test
  void alive_liveProcessWithItsDataDir_isOurs() throws Exception {
    Process p = withData(dir.resolve("hosts/host1").toString());

    assertThat(ProcessCheck.alive(p.pid(), dir.resolve("hosts/host1").toString())).isTrue();
  }

  /** A recorded pid reused by another program (or another cluster's agent) must not be signalled. */
  @Test
  void alive_liveProcessWithAnotherDataDir_isNotOurs() throws Exception {
    Process p = withData(dir.resolve("hosts/host2").toString());

    assertThat(ProcessCheck.alive(p.pid(), dir.resolve("hosts/host1").toString())).isFalse();
    assertThat(ProcessCheck.alive(ProcessHandle.current().pid(), dir.toString())).isFalse();
  }

  @Test
  void alive_deadOrMissingPid_isNotOurs() throws Exception {
    Process p = withData(dir.toString());
    p.destroyForcibly().waitFor();

    assertThat(ProcessCheck.alive(p.pid(), dir.toString())).isFalse();
    assertThat(ProcessCheck.alive(null, dir.toString())).isFalse();
    assertThat(ProcessCheck.alive(-1L, dir.toString())).isFalse();
  }

  @Test
  void starting_argsNotReadableYet_countsAsStarting_otherArgsDoNot() throws Exception {
    assertThat(ProcessCheck.startingArgs(List.of(), "/c/controller")).as("inside exec").isTrue();
    assertThat(ProcessCheck.startingArgs(List.of("setsid", "java", "--data", "/c/controller"), "/c/controller")).isTrue();
    assertThat(ProcessCheck.startingArgs(List.of("java", "--data", "/c/other"), "/c/controller")).isFalse();
    Process p = withData(dir.toString());
    assertThat(ProcessCheck.starting(p.pid(), dir.toString())).isTrue();
    p.destroyForcibly().waitFor();
    assertThat(ProcessCheck.starting(p.pid(), dir.toString())).as("exited").isFalse();
  }

  @Test
  void seen_saysGoneOrWhatRunsThere() throws Exception {
    Process p = withData(dir.toString());
    assertThat(ProcessCheck.seen(p.pid())).isEqualTo("pid " + p.pid() + " runs 'sh -c sleep 30; : sh --data " + dir + "'");
    p.destroyForcibly().waitFor();
    assertThat(ProcessCheck.seen(p.pid())).isEqualTo("pid " + p.pid() + " is gone");
    assertThat(ProcessCheck.seen(null)).isEqualTo("no pid recorded");
  }

  @Test
  void hasData_matchesExactDirInBothSpellings() {
    assertThat(ProcessCheck.hasData(List.of("java", "-jar", "f.jar", "agent", "--data", "/c/hosts/host1"), "/c/hosts/host1")).isTrue();
    assertThat(ProcessCheck.hasData(List.of("java", "--data=/c/controller"), "/c/controller")).isTrue();
    assertThat(ProcessCheck.hasData(List.of("java", "--data", "/c/hosts/host10"), "/c/hosts/host1")).isFalse();
    assertThat(ProcessCheck.hasData(List.of("java", "--data"), "/c")).isFalse();
  }

  @Test
  void stop_processThatHonoursSigterm_endsStopped() throws Exception {
    Process p = withData(dir.toString());

    String how = ProcessCheck.stop(p.toHandle(), Duration.ofSeconds(5));

    assertThat(how).isEqualTo("stopped");
    assertThat(p.isAlive()).isFalse();
  }

  @Test
  void launcher_commands_detachAndPassTheContractsArguments() {
    ClusterLayout layout = new ClusterLayout(dir);
    Launcher l = new Launcher("/jdk/bin/java", "/x/ferry.jar");

    assertThat(l.controller(layout, 7000, "2s", null)).endsWith("--data", dir.resolve("controller").toString(),
        "--tls", dir.resolve("controller/tls").toString(), "--host-timeout", "2s");
    assertThat(l.controller(layout, 7000, null, 1)).endsWith("--data", dir.resolve("controller").toString(),
        "--tls", dir.resolve("controller/tls").toString(), "--max-migrations-per-host", "1");
    assertThat(l.controller(layout, 7000, "2s", 3)).endsWith("--host-timeout", "2s", "--max-migrations-per-host", "3");
    assertThat(l.controller(layout, 7000, null, null)).containsExactly("setsid", "/jdk/bin/java", "--enable-native-access=ALL-UNNAMED",
        "-jar", "/x/ferry.jar", "controller", "--listen", "127.0.0.1:7000", "--data", dir.resolve("controller").toString(),
        "--tls", dir.resolve("controller/tls").toString());
    assertThat(l.controller(layout, 7000, null, null, LocalNetwork.of(layout))).endsWith("--dhcp-leases",
        "default=" + dir.resolve("network/dnsmasq.leases"));
    assertThat(l.agent(layout, "host2", 7002, "http://127.0.0.1:7000")).containsSubsequence(
        "agent", "--name", "host2", "--listen", "127.0.0.1:7002", "--data", dir.resolve("hosts/host2").toString(),
        "--controller", "http://127.0.0.1:7000", "--credential-file", dir.resolve("hosts/host2/credential").toString(),
        "--tls", dir.resolve("hosts/host2/tls").toString());
  }
}
