package dev.ferry.cli.ca;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.Json;
import dev.ferry.cli.CliRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CaCommandTest {

  @TempDir Path tmp;

  @Test
  void initThenIssue_json_namesEveryFileAndTheSubject() throws Exception {
    var runner = new CliRunner().cwd(tmp);
    var init = runner.run("ca", "init", "ca", "--json");
    assertThat(init.exit()).as(init.err()).isZero();
    JsonNode ca = Json.mapper().readTree(init.out());
    assertThat(ca.get("ca_cert").asText()).isEqualTo(tmp.resolve("ca/ca-cert.pem").toString());
    assertThat(ca.get("fingerprint_sha256").asText()).matches("([0-9A-F]{2}:){31}[0-9A-F]{2}");

    var issue = runner.run("ca", "issue", "--ca", "ca", "--name", "node7", "--san", "192.0.2.7", "--san",
        "node7.example.org", "--out", "node7-tls", "--json");
    assertThat(issue.exit()).as(issue.err()).isZero();
    JsonNode issued = Json.mapper().readTree(issue.out());
    assertThat(issued.get("subject").asText()).isEqualTo("CN=node7");
    assertThat(issued.get("sans")).extracting(JsonNode::asText).containsExactly("node7", "192.0.2.7", "node7.example.org");
    for (String f : new String[] {"ca_cert", "server_cert", "server_key", "client_cert", "client_key"}) {
      assertThat(Path.of(issued.at("/files/" + f).asText())).isRegularFile().startsWith(tmp.resolve("node7-tls"));
    }
    assertThat(Files.list(tmp.resolve("node7-tls")).map(p -> p.getFileName().toString()))
        .containsExactlyInAnyOrder("ca-cert.pem", "server-cert.pem", "server-key.pem", "client-cert.pem", "client-key.pem");
  }

  @Test
  void issue_withoutCa_failsNamingTheDirectoryAndHowToMakeOne() {
    var r = new CliRunner().cwd(tmp).run("ca", "issue", "--ca", "none", "--name", "h", "--out", "x");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).startsWith("ferry: no CA in " + tmp.resolve("none")).contains("ferry ca init");
  }

  @Test
  void initTwice_secondRefused() {
    var runner = new CliRunner().cwd(tmp);
    assertThat(runner.run("ca", "init", "ca").exit()).isZero();
    var again = runner.run("ca", "init", "ca");
    assertThat(again.exit()).isEqualTo(1);
    assertThat(again.err()).contains("already holds a CA");
  }
}
