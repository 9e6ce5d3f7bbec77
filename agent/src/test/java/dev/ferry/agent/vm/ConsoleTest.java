package dev.ferry.agent.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.agent.AgentException;
import dev.ferry.api.ConsoleChunk;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConsoleTest {

  @TempDir Path tmp;

  @Test
  void read_fromOffset_returnsRestAndNextOffset() throws Exception {
    Path log = Files.writeString(tmp.resolve("console.log"), "one\ntwo\nthree\n");

    ConsoleChunk c = Console.read(log, "h1", 4L, null);

    assertThat(c).isEqualTo(new ConsoleChunk("h1", 4, 14, "two\nthree\n"));
  }

  @Test
  void read_offsetPastEnd_isEmptyAtEnd() throws Exception {
    Path log = Files.writeString(tmp.resolve("console.log"), "abc\n");

    assertThat(Console.read(log, "h1", 100L, null)).isEqualTo(new ConsoleChunk("h1", 4, 4, ""));
  }

  @Test
  void read_tail_returnsLastLines() throws Exception {
    Path log = Files.writeString(tmp.resolve("console.log"), "one\ntwo\nthree\nfour");

    ConsoleChunk c = Console.read(log, "h1", null, 2);

    assertThat(c.text()).isEqualTo("three\nfour");
    assertThat(c.offset()).isEqualTo(8);
    assertThat(c.nextOffset()).isEqualTo(18);
  }

  @Test
  void read_tailMoreThanThere_returnsAll() throws Exception {
    Path log = Files.writeString(tmp.resolve("console.log"), "one\ntwo\n");

    assertThat(Console.read(log, "h1", null, 10).text()).isEqualTo("one\ntwo\n");
  }

  @Test
  void read_largeLog_chunkEndsAtLineBoundary() throws Exception {
    String line = "x".repeat(99) + "\n";
    Path log = Files.writeString(tmp.resolve("console.log"), line.repeat(1000));

    ConsoleChunk c = Console.read(log, "h1", 0L, null);

    assertThat(c.text()).endsWith("\n");
    assertThat(c.nextOffset()).isEqualTo(655 * 100L).isLessThanOrEqualTo(Console.MAX_CHUNK);
  }

  @Test
  void read_missingLog_isEmpty() {
    assertThat(Console.read(tmp.resolve("none.log"), "h1", null, null)).isEqualTo(new ConsoleChunk("h1", 0, 0, ""));
  }

  @Test
  void read_offsetAndTail_isBadInput() throws Exception {
    Path log = Files.writeString(tmp.resolve("console.log"), "x");

    assertThatThrownBy(() -> Console.read(log, "h1", 0L, 1)).isInstanceOf(AgentException.class);
    assertThatThrownBy(() -> Console.read(log, "h1", -1L, null)).isInstanceOf(AgentException.class);
  }
}
