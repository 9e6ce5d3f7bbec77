package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ConfigFileTest {

  @TempDir
  Path tmp;

  @Test
  void read_knownKeysCommentsAndBlanks_givesTheSettings() throws Exception {
    Path f = Files.writeString(tmp.resolve("agent.conf"), """
        # a comment
        name = host1

        listen=10.0.0.11:7101
        accel = tcg
        """);

    var settings = ConfigFile.read(f, Main.commandLine().getSubcommands().get("agent").getCommandSpec());

    assertThat(settings).containsExactly(java.util.Map.entry("name", "host1"), java.util.Map.entry("listen", "10.0.0.11:7101"),
        java.util.Map.entry("accel", "tcg"));
  }

  @Test
  void read_unknownKey_isRefusedNamingItAndItsLine() throws Exception {
    Path f = Files.writeString(tmp.resolve("agent.conf"), "name = host1\nlisen = 10.0.0.11:7101\n");

    assertThatThrownBy(() -> ConfigFile.read(f, Main.commandLine().getSubcommands().get("agent").getCommandSpec()))
        .isInstanceOfSatisfying(ConfigFile.Invalid.class, e -> assertThat(e.usage).isTrue())
        .hasMessageStartingWith(f + ":2: unknown key 'lisen' for ferry agent (known: ")
        .hasMessageContaining("listen");
  }

  @Test
  void read_keyTwice_isRefused() throws Exception {
    Path f = Files.writeString(tmp.resolve("c.conf"), "data = /a\ndata = /b\n");

    assertThatThrownBy(() -> ConfigFile.read(f, Main.commandLine().getSubcommands().get("controller").getCommandSpec()))
        .hasMessage(f + ":2: key 'data' is set twice");
  }

  @Test
  void read_lineWithoutEquals_isRefused() throws Exception {
    Path f = Files.writeString(tmp.resolve("c.conf"), "data /a\n");

    assertThatThrownBy(() -> ConfigFile.read(f, Main.commandLine().getSubcommands().get("controller").getCommandSpec()))
        .hasMessage(f + ":1: 'data /a' is not key = value");
  }

  @Test
  void read_missingFile_isAFailureNotAUsageError() {
    assertThatThrownBy(() -> ConfigFile.read(tmp.resolve("none.conf"),
        Main.commandLine().getSubcommands().get("controller").getCommandSpec()))
        .isInstanceOfSatisfying(ConfigFile.Invalid.class, e -> assertThat(e.usage).isFalse())
        .hasMessageStartingWith("config file " + tmp.resolve("none.conf") + " cannot be read");
  }

  /** The file gives the defaults; a flag on the command line wins over it. */
  @Test
  void daemonConfig_flagOverridesTheFile() throws Exception {
    Path f = Files.writeString(tmp.resolve("controller.conf"), "listen = 127.0.0.1:1\ndata = " + tmp + "\ncpu-model = EPYC\n");
    CommandLine root = Main.commandLine();
    String[] args = {"controller", "--config", f.toString(), "--listen", "127.0.0.1:2"};

    Main.daemonConfig(root, args);
    var parsed = root.parseArgs(args).subcommand();

    assertThat(parsed.matchedOptionValue("--listen", null).toString()).contains("2");
    var spec = root.getSubcommands().get("controller").getCommandSpec();
    assertThat((Object) spec.findOption("--cpu-model").getValue()).isEqualTo("EPYC");
    assertThat(spec.findOption("--data").getValue().toString()).isEqualTo(tmp.toString());
    assertThat(spec.findOption("--listen").getValue().toString()).contains("port=2");
  }

  @Test
  void help_namesTheConfigOption() {
    var out = new StringWriter();
    CommandLine root = Main.commandLine();
    root.setOut(new PrintWriter(out));
    root.execute("agent", "--help");

    assertThat(out.toString()).contains("--config=FILE").contains("--accel=auto|kvm|tcg");
  }
}
