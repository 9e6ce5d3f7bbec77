package dev.ferry.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class SubprocessTest {

  @Test
  void run_programWritesBothStreams_returnsExitAndOutput() {
    var r = Subprocess.run(List.of("sh", "-c", "echo out; echo err >&2; exit 3"), Duration.ofSeconds(10));

    assertEquals(3, r.exit());
    assertTrue(r.out().contains("out") && r.out().contains("err"), r.out());
  }

  /**
   * Regression: the helpers read the output pipe to its end before waiting, so a program that
   * hung with its pipe open (here a child that keeps it) held the caller forever.
   */
  @Test
  void run_programHangsWithOutputOpen_killsItsTreeAtTheDeadline() throws Exception {
    long t0 = System.nanoTime();
    var e = assertThrows(AgentException.class, () ->
        Subprocess.run(List.of("sh", "-c", "echo started; sleep 60 & wait"), Duration.ofMillis(500)));
    long ms = (System.nanoTime() - t0) / 1_000_000;

    assertTrue(ms < 10_000, "returned after " + ms + " ms");
    assertTrue(e.getMessage().contains("did not finish within 500 ms") && e.getMessage().contains("started"),
        e.getMessage());
    // the child sleep was killed with its parent: nothing of the tree is left
    Thread.sleep(200);
    assertTrue(ProcessHandle.current().descendants().noneMatch(h -> h.info().command().orElse("").endsWith("sleep")),
        "no sleep left behind");
  }
}
