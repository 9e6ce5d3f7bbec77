package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.Problem;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ErrorsTest {

  private final FakeController fake = new FakeController();

  @AfterEach
  void stop() {
    fake.close();
  }

  @Test
  void anyCommand_wrongToken_exitsOneSayingTheTokenWasRefused() {
    var result = new CliRunner().env("FERRY_TOKEN", "wrong").run("vm", "list", "--controller", fake.url());

    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.err()).startsWith("ferry: the controller at " + fake.url() + " refused the token (401")
        .contains("--token-file").hasLineCount(1);
    assertThat(fake.requests().getFirst().authorization()).isEqualTo("Bearer wrong");
  }

  @Test
  void anyCommand_controllerDown_exitsOneSuggestingClusterUp() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }

    var result = new CliRunner().env("FERRY_TOKEN", "t").run("host", "list", "--controller", "http://127.0.0.1:" + port);

    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.err()).startsWith("ferry: cannot reach the controller at http://127.0.0.1:" + port)
        .contains("ferry cluster up").hasLineCount(1);
  }

  @Test
  void vmDelete_running_exitsOneWithTheConflict() {
    fake.reply("DELETE /api/vms/web", 409, Problem.of(409, "conflict", "vm web is running on host1: stop it first"));

    var result = new CliRunner().against(fake, "vm", "delete", "web");

    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.err()).isEqualTo("ferry: vm web is running on host1: stop it first" + System.lineSeparator());
  }

  @Test
  void anyCommand_serverErrorWithoutProblem_exitsOneWithStatusAndBody() {
    fake.reply("GET /api/vms", 500, "boom");

    var result = new CliRunner().against(fake, "vm", "list");

    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.err()).contains("GET /api/vms answered 500: boom");
  }

  @Test
  void vmStop_timeout_sendsTimeoutMillisAndPrintsState() {
    fake.reply("POST /api/vms/web/stop", 200, "{\"name\":\"web\",\"state\":\"stopped\"}");

    var result = new CliRunner().against(fake, "vm", "stop", "web", "--timeout", "2m");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(fake.requests().getFirst().target()).isEqualTo("/api/vms/web/stop?timeout_ms=120000");
    assertThat(result.out()).isEqualTo("vm web: stopped" + System.lineSeparator());
  }

  @Test
  void vmStop_defaultTimeout_isThirtySeconds() {
    fake.reply("POST /api/vms/web/stop", 200, "{\"state\":\"stopped\"}");

    new CliRunner().against(fake, "vm", "stop", "web");

    assertThat(fake.requests().getFirst().query()).isEqualTo("timeout_ms=30000");
  }

  @Test
  void vmStop_badTimeout_exitsTwo() {
    var result = new CliRunner().against(fake, "vm", "stop", "web", "--timeout", "soon");

    assertThat(result.exit()).isEqualTo(2);
    assertThat(result.err()).contains("'soon'").contains("30s");
    assertThat(fake.requests()).isEmpty();
  }

  @Test
  void group_withoutVerb_exitsTwoListingVerbs() {
    var result = new CliRunner().run("vm");

    assertThat(result.exit()).isEqualTo(2);
    assertThat(result.err()).contains("create").contains("console");
  }

  @Test
  void help_onVerbAndGroup_exitsZeroWithUsage() {
    var verb = new CliRunner().run("vm", "create", "--help");
    var group = new CliRunner().run("cluster", "--help");

    assertThat(verb.exit()).isZero();
    assertThat(verb.out()).contains("Usage: ferry vm create").contains("--kernel=FILE").contains("--controller=URL");
    assertThat(group.exit()).isZero();
    assertThat(group.out()).contains("up").contains("down").contains("status");
  }

  @Test
  void unknownOption_exitsTwo() {
    var result = new CliRunner().against(fake, "host", "list", "--jsn");

    assertThat(result.exit()).isEqualTo(2);
    assertThat(fake.requests()).isEmpty();
  }

  @Test
  void exitCodeFor_eachKind_mapsToContractCodes() {
    assertThat(Cli.exitCodeFor(CliException.usage("x"))).isEqualTo(2);
    for (CliException.Kind k : CliException.Kind.values()) {
      if (k != CliException.Kind.USAGE) assertThat(Cli.exitCodeFor(new CliException(k, "x"))).isEqualTo(1);
    }
    assertThat(Cli.exitCodeFor(new IllegalStateException())).isEqualTo(1);
  }
}
