package dev.ferry.cli.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import dev.ferry.cli.CliRunner;
import dev.ferry.cli.FakeController;
import dev.ferry.cli.cluster.ClusterFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EndpointTest {

  @TempDir Path tmp;

  private CliContext ctx(Map<String, String> env) {
    return new CliContext(env, tmp, Duration.ofMillis(1));
  }

  private Path clusterDirWith(String url, String token) throws Exception {
    Path dir = tmp.resolve("cluster");
    Path tokenFile = dir.resolve("controller/token");
    Files.createDirectories(tokenFile.getParent());
    dev.ferry.api.auth.SecretFile.write(tokenFile, token);
    new ClusterFile(url, tokenFile.toString(),
        new ClusterFile.Component("controller", 1, null, dir.resolve("controller").toString(), null), List.of())
        .write(dir);
    return dir;
  }

  @Test
  void resolve_flags_winOverEnvAndClusterDir() throws Exception {
    Path dir = clusterDirWith("http://127.0.0.1:3", "file-token");
    Map<String, String> env = Map.of("FERRY_CONTROLLER", "http://127.0.0.1:2", "FERRY_TOKEN", "env-token",
        "FERRY_CLUSTER_DIR", dir.toString());

    Path flagFile = tmp.resolve("flag-token-file");
    dev.ferry.api.auth.SecretFile.write(flagFile, "flag-token");
    Endpoint e = Endpoint.resolve("http://127.0.0.1:1/", flagFile, ctx(env));

    assertThat(e.url()).hasToString("http://127.0.0.1:1");
    assertThat(e.token()).isEqualTo("flag-token");
  }

  @Test
  void resolve_noFlags_usesEnvOverClusterDir() throws Exception {
    Path dir = clusterDirWith("http://127.0.0.1:3", "file-token");
    Map<String, String> env = Map.of("FERRY_CONTROLLER", "http://127.0.0.1:2", "FERRY_TOKEN", "env-token",
        "FERRY_CLUSTER_DIR", dir.toString());

    Endpoint e = Endpoint.resolve(null, null, ctx(env));

    assertThat(e.url()).hasToString("http://127.0.0.1:2");
    assertThat(e.token()).isEqualTo("env-token");
  }

  @Test
  void resolve_nothingButClusterDir_readsClusterJsonAndTokenFile() throws Exception {
    Path dir = clusterDirWith("http://127.0.0.1:3", "file-token");

    Endpoint e = Endpoint.resolve(null, null, ctx(Map.of("FERRY_CLUSTER_DIR", dir.toString())));

    assertThat(e.url()).hasToString("http://127.0.0.1:3");
    assertThat(e.token()).isEqualTo("file-token");
  }

  @Test
  void resolve_ca_flagThenEnvThenClusterFile_aMissingFileIsAConfigError() throws Exception {
    Path dir = tmp.resolve("cluster");
    Path tokenFile = Files.createDirectories(dir.resolve("controller")).resolve("token");
    dev.ferry.api.auth.SecretFile.write(tokenFile, "t");
    Path fromFile = Files.writeString(tmp.resolve("file-ca.pem"), "x");
    Path fromEnv = Files.writeString(tmp.resolve("env-ca.pem"), "x");
    Files.writeString(tmp.resolve("flag-ca.pem"), "x");
    new ClusterFile("https://127.0.0.1:3", tokenFile.toString(),
        new ClusterFile.Component("controller", 3, null, dir.resolve("controller").toString(), null), List.of(),
        fromFile.toString()).write(dir);

    assertThat(Endpoint.resolve(null, null, ctx(Map.of("FERRY_CLUSTER_DIR", dir.toString()))).caFile()).isEqualTo(fromFile);
    assertThat(Endpoint.resolve(null, null, null, ctx(Map.of("FERRY_CLUSTER_DIR", dir.toString(), "FERRY_CA",
        fromEnv.toString()))).caFile()).isEqualTo(fromEnv);
    assertThat(Endpoint.resolve(null, null, "flag-ca.pem", ctx(Map.of("FERRY_CLUSTER_DIR", dir.toString(), "FERRY_CA",
        fromEnv.toString()))).caFile()).isEqualTo(tmp.resolve("flag-ca.pem"));
    assertThatThrownBy(() -> Endpoint.resolve(null, null, "nope.pem", ctx(Map.of("FERRY_CLUSTER_DIR", dir.toString()))))
        .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.kind()).isEqualTo(CliException.Kind.CONFIG))
        .hasMessageContaining(tmp.resolve("nope.pem").toString()).hasMessageContaining("--ca");
  }

  @Test
  void resolve_tokenFileReadableByOthers_isRefusedNamingFileModeAndWhatIsAllowed() throws Exception {
    Path dir = clusterDirWith("http://127.0.0.1:3", "file-token");
    Path tokenFile = dir.resolve("controller/token");
    Files.setPosixFilePermissions(tokenFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));

    assertThatThrownBy(() -> Endpoint.resolve(null, null, ctx(Map.of("FERRY_CLUSTER_DIR", dir.toString()))))
        .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.kind()).isEqualTo(CliException.Kind.CONFIG))
        .hasMessageContaining(tokenFile.toString()).hasMessageContaining("mode 0640")
        .hasMessageContaining("0600 or 0400");
  }

  @Test
  void resolve_flagUrlWithoutToken_takesTokenFromEnv() throws Exception {
    Map<String, String> env = Map.of("FERRY_TOKEN", "env-token", "FERRY_CLUSTER_DIR", tmp.resolve("none").toString());

    Endpoint e = Endpoint.resolve("http://127.0.0.1:1", null, ctx(env));

    assertThat(e.token()).isEqualTo("env-token");
  }

  @Test
  void resolve_nothingConfigured_failsTellingHowToStartACluster() {
    assertThatThrownBy(() -> Endpoint.resolve(null, null, ctx(Map.of("FERRY_CLUSTER_DIR", tmp.resolve("none").toString()))))
        .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.kind()).isEqualTo(CliException.Kind.CONFIG))
        .hasMessageContaining("ferry cluster up").hasMessageContaining("--controller");
  }

  @Test
  void clusterDir_default_followsXdgStateHomeThenHome() {
    assertThat(ctx(Map.of("XDG_STATE_HOME", "/state")).clusterDir()).isEqualTo(Path.of("/state/ferry/cluster"));
    assertThat(ctx(Map.of("HOME", "/home/u")).clusterDir()).isEqualTo(Path.of("/home/u/.local/state/ferry/cluster"));
    assertThat(ctx(Map.of("FERRY_CLUSTER_DIR", "/c", "XDG_STATE_HOME", "/state")).clusterDir()).isEqualTo(Path.of("/c"));
  }

  /** Root's private home (Debian's /root is 0700) would keep QEMU, run as ferry-qemu, out of the cluster. */
  @Test
  void clusterDir_rootWithAPrivateHome_isUnderVarLib_aHomeOthersEnter_staysTheDefault() throws Exception {
    Path closed = Files.createDirectories(tmp.resolve("closed-home"));
    Files.setPosixFilePermissions(closed, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    Path open = Files.createDirectories(tmp.resolve("open-home"));
    Files.setPosixFilePermissions(open, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
    boolean root = "root".equals(System.getProperty("user.name"));

    assertThat(ctx(Map.of("HOME", closed.toString())).clusterDir())
        .isEqualTo(root ? CliContext.ROOT_CLUSTER_DIR : closed.resolve(".local/state/ferry/cluster"));
    assertThat(ctx(Map.of("HOME", open.toString())).clusterDir()).isEqualTo(open.resolve(".local/state/ferry/cluster"));
    assertThat(ctx(Map.of("HOME", closed.toString(), "XDG_STATE_HOME", "/state")).clusterDir())
        .as("an explicit XDG_STATE_HOME is the user's choice").isEqualTo(Path.of("/state/ferry/cluster"));
  }

  @Test
  void command_nothingConfigured_exitsOneWithHint() {
    var result = new CliRunner().cwd(tmp).run("vm", "list");

    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.err()).startsWith("ferry: no controller configured").contains("'ferry cluster up'");
  }

  @Test
  void command_envOnly_reachesControllerWithEnvToken() {
    try (FakeController fake = new FakeController()) {
      fake.reply("GET /api/vms", 200, List.of());

      var result = new CliRunner().env("FERRY_CONTROLLER", fake.url()).env("FERRY_TOKEN", FakeController.TOKEN)
          .run("vm", "list");

      assertThat(result.exit()).as(result.err()).isZero();
      assertThat(fake.requests().getFirst().authorization()).isEqualTo("Bearer " + FakeController.TOKEN);
    }
  }
}
