package dev.ferry.cli.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.ConsoleChunk;
import dev.ferry.cli.CliRunner;
import dev.ferry.cli.FakeController;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class VmConsoleTest {

  private final FakeController fake = new FakeController();

  @AfterEach
  void stop() {
    fake.close();
  }

  @Test
  void vmConsole_tail_asksForLinesAndPrintsText() {
    fake.reply("GET /api/vms/web/console?tail=2", 200, new ConsoleChunk("host1", 100, 130, "login: \nwelcome\n"));

    var result = new CliRunner().against(fake, "vm", "console", "web", "--tail", "2");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(result.out()).isEqualTo("login: \nwelcome\n");
  }

  @Test
  void vmConsole_noTail_readsFromTheStart() {
    fake.reply("GET /api/vms/web/console?offset=0", 200, new ConsoleChunk("host1", 0, 5, "boot\n"));

    var result = new CliRunner().against(fake, "vm", "console", "web");

    assertThat(result.out()).isEqualTo("boot\n");
  }

  /** When the VM moves, the old offset means nothing on the new host: read its log from the start. */
  @Test
  void vmConsoleFollow_vmMovesToAnotherHost_restartsAtOffsetZeroOnTheNewHost() {
    fake.reply("GET /api/vms/web/console?offset=0", 200, new ConsoleChunk("host1", 0, 4, "one\n"))
        .reply("GET /api/vms/web/console?offset=0", 200, new ConsoleChunk("host2", 0, 6, "three\n"))
        .reply("GET /api/vms/web/console?offset=4", 200, new ConsoleChunk("host1", 4, 8, "two\n"))
        // the VM moved between polls: host2 answers the old offset with its own (shorter) log
        .reply("GET /api/vms/web/console?offset=8", 200, new ConsoleChunk("host2", 8, 8, ""))
        .reply("GET /api/vms/web/console?offset=6", 200, new ConsoleChunk("host2", 6, 6, ""));

    var result = new CliRunner().env("FERRY_TOKEN", FakeController.TOKEN).run(root -> bound(root, 3), "vm", "console", "web", "--follow",
        "--controller", fake.url());

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(result.out()).isEqualTo("one\ntwo\n\n--- vm web is now on host2 ---\nthree\n");
    assertThat(fake.requests()).extracting(FakeController.Request::query)
        .containsExactly("offset=0", "offset=4", "offset=8", "offset=0", "offset=6");
  }

  private static void bound(CommandLine root, long polls) {
    VmConsole console = root.getSubcommands().get("vm").getSubcommands().get("console").getCommand();
    console.maxPolls = polls;
  }
}
