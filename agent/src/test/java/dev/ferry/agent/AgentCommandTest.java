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
  void parseDuration_commonForms_parse() {
    assertThat(AgentCommand.parseDuration("2s")).isEqualTo(Duration.ofSeconds(2));
    assertThat(AgentCommand.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(AgentCommand.parseDuration("1m")).isEqualTo(Duration.ofMinutes(1));
    assertThat(AgentCommand.parseDuration("PT3S")).isEqualTo(Duration.ofSeconds(3));
    assertThatThrownBy(() -> AgentCommand.parseDuration("soon")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void config_allOptions_areApplied() throws Exception {
    Path token = Files.writeString(tmp.resolve("token"), "abc\n");
    var cmd = new AgentCommand();
    new CommandLine(cmd).parseArgs("--name", "host1", "--listen", "127.0.0.1:7101", "--data", tmp.toString(),
        "--controller", "http://127.0.0.1:7100", "--token-file", token.toString(), "--heartbeat-interval", "500ms",
        "--memory", "2G", "--cpus", "2");

    AgentConfig c = cmd.config();

    assertThat(c.name()).isEqualTo("host1");
    assertThat(c.listenPort()).isEqualTo(7101);
    assertThat(c.token()).isEqualTo("abc");
    assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofMillis(500));
    assertThat(c.memoryBytes()).isEqualTo(2L << 30);
    assertThat(c.cpus()).isEqualTo(2);
  }

  @Test
  void execute_badListenAddress_exitsWithUsageError() throws Exception {
    Path token = Files.writeString(tmp.resolve("token"), "abc");
    var err = new StringWriter();
    var cl = new CommandLine(new AgentCommand()).setErr(new PrintWriter(err));

    int code = cl.execute("--name", "host1", "--listen", "nowhere", "--data", tmp.toString(),
        "--controller", "http://127.0.0.1:7100", "--token-file", token.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("--listen 'nowhere'");
  }
}
