package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class AgentCommandTest {

  @TempDir Path tmp;

  @Test
  void heartbeatInterval_commonForms_parse() throws Exception {
    assertThat(heartbeat("2s")).isEqualTo(Duration.ofSeconds(2));
    assertThat(heartbeat("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(heartbeat("1m")).isEqualTo(Duration.ofMinutes(1));
    assertThat(heartbeat("PT3S")).isEqualTo(Duration.ofSeconds(3));
    assertThatThrownBy(() -> heartbeat("soon")).isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--heartbeat-interval 'soon' is not valid");
  }

  /** The one duration grammar: a bare number was seconds here and refused by the controller; now refused by both. */
  @Test
  void heartbeatInterval_bareNumber_isAUsageErrorNamingTheUnits() {
    assertThatThrownBy(() -> heartbeat("10")).isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--heartbeat-interval '10' is not valid: a number needs a unit (ms, s, m or h)");
  }

  private Duration heartbeat(String value) throws Exception {
    Path token = credential("host1");
    var cmd = new AgentCommand();
    new CommandLine(cmd).parseArgs("--name", "host1", "--listen", "127.0.0.1:7101", "--data", tmp.toString(),
        "--controller", "http://127.0.0.1:7100", "--credential-file", token.toString(), "--heartbeat-interval", value);
    return cmd.config().heartbeatInterval();
  }

  @Test
  void config_allOptions_areApplied() throws Exception {
    Path token = credential("host1");
    var cmd = new AgentCommand();
    new CommandLine(cmd).parseArgs("--name", "host1", "--listen", "127.0.0.1:7101", "--data", tmp.toString(),
        "--controller", "http://127.0.0.1:7100", "--credential-file", token.toString(), "--heartbeat-interval", "500ms",
        "--memory", "2G", "--cpus", "2", "--log-max-size", "1M", "--log-keep", "5");

    AgentConfig c = cmd.config();

    assertThat(c.name()).isEqualTo("host1");
    assertThat(c.listenPort()).isEqualTo(7101);
    assertThat(c.token()).isEqualTo("abc");
    assertThat(c.controllerCredentialSha256()).isEqualTo("c".repeat(64));
    assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofMillis(500));
    assertThat(c.memoryBytes()).isEqualTo(2L << 30);
    assertThat(c.cpus()).isEqualTo(2);
    assertThat(c.logCaps()).isEqualTo(new dev.ferry.agent.vm.LogCaps(1L << 20, 5));
  }

  @Test
  void ftQemu_executableIsApplied_otherwiseAUsageError() throws Exception {
    Path token = credential("host1");
    String[] base = {"--name", "host1", "--listen", "127.0.0.1:7101", "--data", tmp.toString(),
        "--controller", "http://127.0.0.1:7100", "--credential-file", token.toString(), "--ft-qemu"};
    Path qemu = java.nio.file.Files.writeString(tmp.resolve("qemu"), "#!/bin/sh\n");
    var plain = new AgentCommand();
    new CommandLine(plain).parseArgs(java.util.Arrays.copyOf(base, base.length - 1));
    assertThat(plain.config().ftQemu()).isNull();

    var notExecutable = new AgentCommand();
    new CommandLine(notExecutable).parseArgs(concat(base, qemu.toString()));
    assertThatThrownBy(notExecutable::config).isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--ft-qemu " + qemu + " is not an executable file");

    qemu.toFile().setExecutable(true);
    var given = new AgentCommand();
    new CommandLine(given).parseArgs(concat(base, qemu.toString()));
    assertThat(given.config().ftQemu()).isEqualTo(qemu);
  }

  private static String[] concat(String[] a, String last) {
    String[] r = java.util.Arrays.copyOf(a, a.length + 1);
    r[a.length] = last;
    return r;
  }

  @Test
  void logCaps_defaultAndBadValues() throws Exception {
    Path token = credential("host1");
    String[] base = {"--name", "host1", "--listen", "127.0.0.1:7101", "--data", tmp.toString(),
        "--controller", "http://127.0.0.1:7100", "--credential-file", token.toString()};
    var plain = new AgentCommand();
    new CommandLine(plain).parseArgs(base);
    assertThat(plain.config().logCaps()).isEqualTo(dev.ferry.agent.vm.LogCaps.defaults());

    var small = new AgentCommand();
    String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.stream.Stream.of("--log-max-size", "1K"))
        .toArray(String[]::new);
    new CommandLine(small).parseArgs(args);
    assertThatThrownBy(small::config).isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("less than 4 KiB");
  }

  @Test
  void execute_badListenAddress_exitsWithUsageError() throws Exception {
    Path token = credential("host1");
    var err = new StringWriter();
    var cl = new CommandLine(new AgentCommand()).setErr(new PrintWriter(err));

    int code = cl.execute("--name", "host1", "--listen", "nowhere", "--data", tmp.toString(),
        "--controller", "http://127.0.0.1:7100", "--credential-file", token.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("--listen 'nowhere'");
  }

  @Test
  void credentialFile_readableByOthers_isRefusedNamingFileAndMode() throws Exception {
    Path file = credential("host1");
    Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    var cmd = new AgentCommand();
    var cl = new CommandLine(cmd);
    cl.parseArgs("--name", "host1", "--listen", "127.0.0.1:7101", "--data", tmp.toString(),
        "--controller", "http://127.0.0.1:7100", "--credential-file", file.toString());

    assertThatThrownBy(cmd::config).isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining(file.toString()).hasMessageContaining("mode 0644").hasMessageContaining("0600");
  }

  @Test
  void credentialFile_ofAnotherHost_isRefused() throws Exception {
    Path file = credential("host2");
    var cmd = new AgentCommand();
    new CommandLine(cmd).parseArgs("--name", "host1", "--listen", "127.0.0.1:7101", "--data", tmp.toString(),
        "--controller", "http://127.0.0.1:7100", "--credential-file", file.toString());

    assertThatThrownBy(cmd::config).isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("host 'host2'");
  }

  /** What 'ferry host enroll' writes: 0600, the host's secret and the controller credential's hash. */
  private Path credential(String host) {
    Path file = tmp.resolve(host + ".credential");
    dev.ferry.api.auth.SecretFile.write(file, "{\"host\": \"" + host + "\", \"credential\": \"abc\","
        + " \"controller_credential_sha256\": \"" + "c".repeat(64) + "\"}");
    return file;
  }
}
