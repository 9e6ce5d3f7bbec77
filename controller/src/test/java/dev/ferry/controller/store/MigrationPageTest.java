package dev.ferry.controller.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.MigrationStatus;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pages of migrations, newest first, by cursor; two migrations created in the same millisecond stay ordered. */
class MigrationPageTest {

  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @TempDir Path dir;
  Store store;

  @BeforeEach
  void open() {
    store = Store.open(dir, null, null, null);
    // m-00 … m-09, one second apart; m-05 and m-06 share a millisecond
    for (int i = 0; i < 10; i++) {
      Instant at = T0.plusSeconds(i == 6 ? 5 : i);
      MigrationStatus status = i == 9 ? MigrationStatus.RUNNING : i % 2 == 0 ? MigrationStatus.SUCCEEDED : MigrationStatus.FAILED;
      store.migrations().insert(new MigrationRow("m-0" + i, i % 3 == 0 ? "storage" : "live", "vm-" + (i % 4),
          i < 5 ? "h1" : "h2", i < 5 ? "h2" : "h3", status, status == MigrationStatus.RUNNING ? "converging" : "done",
          "{}", "{}", false, at, at));
    }
  }

  @AfterEach
  void close() {
    store.close();
  }

  List<String> ids(List<MigrationRow> rows) {
    return rows.stream().map(MigrationRow::id).toList();
  }

  @Test
  void page_walkedByCursor_returnsEveryMigrationOnceNewestFirst() {
    List<String> walked = new ArrayList<>();
    String after = null;
    while (true) {
      List<MigrationRow> page = store.migrations().page(new Page(after, 3), MigrationStore.Filter.NONE);
      walked.addAll(ids(page));
      if (page.size() < 3) break;
      after = page.getLast().id();
    }
    assertThat(walked).isEqualTo(ids(store.migrations().all()));
    assertThat(walked).hasSize(10).doesNotHaveDuplicates().startsWith("m-09", "m-08", "m-07");
  }

  @Test
  void page_filters_combineWithCursor() {
    var byHost = new MigrationStore.Filter(null, "h2", null, null, null);
    assertThat(ids(store.migrations().page(new Page(null, 100), byHost))).hasSize(10);
    var failedOnH3 = new MigrationStore.Filter(null, "h3", MigrationStatus.FAILED, null, null);
    assertThat(ids(store.migrations().page(new Page(null, 100), failedOnH3))).containsExactly("m-07", "m-05");
    assertThat(ids(store.migrations().page(new Page("m-07", 100), failedOnH3))).containsExactly("m-05");
    var converging = new MigrationStore.Filter(null, null, null, "converging", null);
    assertThat(ids(store.migrations().page(new Page(null, 100), converging))).containsExactly("m-09");
    var vm1Live = new MigrationStore.Filter("vm-1", null, null, null, "live");
    assertThat(ids(store.migrations().page(new Page(null, 100), vm1Live))).containsExactly("m-05", "m-01");
  }
}
