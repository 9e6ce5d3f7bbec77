package dev.ferry.controller.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.ferry.api.Event;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal's retention: a prefix is cut by age and by count, and the newest event always stays. */
class EventPruneTest {

  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @TempDir Path dir;
  Store store;

  @BeforeEach
  void open() {
    store = Store.open(dir, null, null, null);
  }

  @AfterEach
  void close() {
    store.close();
  }

  long append(Instant at) {
    return store.events().append(at, "test", "s", JsonNodeFactory.instance.objectNode()).id();
  }

  @Test
  void prune_byAge_deletesOnlyEventsOlderThanTheCutoff() {
    long a = append(T0);
    long b = append(T0.plus(Duration.ofDays(1)));
    long c = append(T0.plus(Duration.ofDays(8)));

    long through = store.events().prune(T0.plus(Duration.ofDays(1)), 1_000);

    assertThat(through).isEqualTo(a);
    assertThat(store.events().after(0, 10)).extracting(Event::id).containsExactly(b, c);
    assertThat(store.events().firstId()).isEqualTo(b);
  }

  @Test
  void prune_byCount_keepsTheNewest() {
    for (int i = 0; i < 10; i++) append(T0.plusSeconds(i));
    List<Long> ids = store.events().after(0, 100).stream().map(Event::id).toList();

    store.events().prune(T0, 3);

    assertThat(store.events().after(0, 100)).extracting(Event::id).containsExactlyElementsOf(ids.subList(7, 10));
    assertThat(store.events().count()).isEqualTo(3);
  }

  @Test
  void prune_everythingTooOld_keepsTheNewestSoTheFirstIdSaysHowFarPruningWent() {
    append(T0);
    long last = append(T0.plusSeconds(1));

    store.events().prune(T0.plus(Duration.ofDays(30)), 1_000);

    assertThat(store.events().after(0, 10)).extracting(Event::id).containsExactly(last);
    assertThat(store.events().firstId()).isEqualTo(last);
  }

  @Test
  void prune_nothingToCut_returnsZeroAndKeepsAll() {
    append(T0);
    append(T0.plusSeconds(1));

    assertThat(store.events().prune(T0, 1_000)).isZero();
    assertThat(store.events().count()).isEqualTo(2);
  }

  @Test
  void append_afterPrune_neverReusesAPrunedId() {
    append(T0);
    long b = append(T0.plusSeconds(1));
    store.events().prune(T0.plusSeconds(5), 1);

    assertThat(append(T0.plusSeconds(2))).isGreaterThan(b);
  }
}
