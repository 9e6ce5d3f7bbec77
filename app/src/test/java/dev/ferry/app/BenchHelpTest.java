package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** Issue 14: every bench command prints its help, not "Unknown option: '--help'". */
class BenchHelpTest {

  @ParameterizedTest
  @ValueSource(strings = {"bench", "bench storage", "bench live", "bench load"})
  void help_printsUsageAndExitsZero(String command) {
    CommandLine root = Main.commandLine();
    var out = new StringWriter();
    var err = new StringWriter();
    root.setOut(new PrintWriter(out));
    root.setErr(new PrintWriter(err));
    String[] words = command.split(" ");
    String[] args = java.util.Arrays.copyOf(words, words.length + 1);
    args[words.length] = "--help";

    int exit = root.execute(args);

    assertThat(exit).as(err.toString()).isZero();
    assertThat(err.toString()).doesNotContain("Unknown option");
    assertThat(out.toString()).startsWith("Usage: ferry " + command).contains("--help");
  }
}
