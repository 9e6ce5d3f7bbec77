package dev.ferry.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.cli.CliRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Options of {@code ferry cluster up} that are handed to the controller: a bad value stops before anything starts. */
class ClusterUpOptionsTest {

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"0", "65", "two", "-1"})
  void maxMigrationsPerHost_outOfRange_isAUsageErrorAndStartsNothing(String value) {
    CliRunner.Result r = new CliRunner().cwd(dir).run("cluster", "up", "--dir", dir.toString(),
        "--max-migrations-per-host", value);

    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--max-migrations-per-host")
        .contains("max-migrations-per-host '" + value + "' is not valid: a whole number of migrations from 1 to 64");
    assertThat(Files.exists(dir.resolve("cluster.json"))).as("no cluster was planned").isFalse();
  }

  /** One duration grammar: the controller refused a bare number only after cluster up had started things. */
  @ParameterizedTest
  @ValueSource(strings = {"10", "0s", "soon"})
  void hostTimeout_bareNumberZeroOrUnreadable_isAUsageErrorAndStartsNothing(String value) {
    CliRunner.Result r = new CliRunner().cwd(dir).run("cluster", "up", "--dir", dir.toString(), "--host-timeout", value);

    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--host-timeout").contains("duration '" + value + "' is not valid").contains("ms, s, m or h");
    assertThat(Files.exists(dir.resolve("cluster.json"))).as("no cluster was planned").isFalse();
  }
}
