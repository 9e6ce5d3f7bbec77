package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class StreamClientTest {

  /** A guest's stream with one pause: two lines 300 ms apart, then the connection stays open. */
  private static Process stream() throws Exception {
    return new ProcessBuilder("sh", "-c", "sleep 0.2; echo 'n=0 echo=-'; sleep 0.3; echo 'n=1 echo=-'; sleep 5").start();
  }

  @Test
  void silence_linesAPauseApart_longestSilenceAndTheLineThatEndedIt() throws Exception {
    try (var client = new StreamClient(stream())) {
      client.mark();
      long until = System.nanoTime() + 5_000_000_000L;
      while (client.received() < 2 && System.nanoTime() < until) Thread.sleep(10);

      assertThat(client.received()).isEqualTo(2);
      assertThat(client.maxSilenceMs()).isBetween(250.0, 2000.0);
      Instant end = client.maxSilenceEnd();
      Instant during = end.minusMillis(100);
      assertThat(client.firstLineAfter(during)).isEqualTo(end);
      assertThat(client.silenceAcross(during)).isCloseTo(client.maxSilenceMs(), within(1.0));
      assertThat(client.firstLineAfter(end.plusMillis(1))).as("no line after the last").isNull();
      assertThat(client.silenceAcross(end.minusSeconds(10))).as("no line before").isNull();
      assertThat(client.problems()).isEmpty();
    }
  }
}
