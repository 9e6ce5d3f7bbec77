package dev.ferry.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A daemon that died during start: its reason is in the error, not only in its log. */
class ClusterUpLastWordsTest {

  @TempDir Path dir;

  @Test
  void lastWords_theDaemonsOneLineErrorWins_overLaterNoise() throws Exception {
    Path log = Files.writeString(dir.resolve("controller.log"), """
        11:00:01 INFO starting
        ferry: controller cannot start: port 4711 is in use
        11:00:02 INFO shutdown hook ran

        """);

    assertThat(ClusterUp.lastWords(log)).isEqualTo(": ferry: controller cannot start: port 4711 is in use");
  }

  @Test
  void lastWords_noErrorLine_theLastLine_noLog_nothing() throws Exception {
    Path log = Files.writeString(dir.resolve("agent.log"), "a\nExitOnOutOfMemoryError\n");

    assertThat(ClusterUp.lastWords(log)).isEqualTo(": ExitOnOutOfMemoryError");
    assertThat(ClusterUp.lastWords(dir.resolve("absent.log"))).isEmpty();
  }
}
