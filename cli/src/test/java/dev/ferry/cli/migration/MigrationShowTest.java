package dev.ferry.cli.migration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.MigrationStatus;
import dev.ferry.api.MigrationView;
import dev.ferry.cli.CliRunner;
import dev.ferry.cli.FakeController;
import dev.ferry.cli.output.MigrationText;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What `ferry migration show` prints of the convergence policy and a recovered post-copy link. */
class MigrationShowTest {

  private static MigrationView live(int recoveries, List<String> escalations) {
    return new MigrationView("m1", "live", "web", "host1", "host2", MigrationStatus.SUCCEEDED, "done",
        Instant.parse("2026-11-26T10:00:00Z"), Instant.parse("2026-11-26T10:00:30Z"), 30_000L, 300L << 20, 0, 300L << 20,
        null, null, 4, null, 900L, 57L, true, 0, null, "post-copy link broke 1 time(s) and recovered each time", List.of(),
        recoveries, escalations, null, null, List.of());
  }

  private static String show(MigrationView v) {
    StringWriter out = new StringWriter();
    MigrationShow.print(v, new PrintWriter(out, true));
    return out.toString();
  }

  @Test
  void recoveredPostcopy_showsTheRecoveriesAndEveryRungInOrder() {
    String text = show(live(1, List.of("bandwidth uncapped from the start (no --bandwidth)",
        "post-copy after 2 passes (--postcopy always)")));

    assertThat(text).contains("link recovered: 1 time(s)")
        .contains("policy:         bandwidth uncapped from the start (no --bandwidth); post-copy after 2 passes")
        .contains("noticed:        post-copy link broke 1 time(s)");
    assertThat(MigrationText.summary(live(1, List.of()))).endsWith(", post-copy, link recovered 1 time(s)");
  }

  @Test
  void answerOfANewerController_withAFieldThisCliDoesNotKnow_isShownNotRefused() {
    var answer = (com.fasterxml.jackson.databind.node.ObjectNode) dev.ferry.api.Json.mapper()
        .valueToTree(live(0, List.of()));
    answer.put("field_of_a_later_release", 42);
    try (var fake = new FakeController()) {
      fake.reply("GET /api/migrations/m1", 200, answer);

      var result = new CliRunner().against(fake, "migration", "show", "m1");

      assertThat(result.exit()).as(result.err()).isZero();
      assertThat(result.out()).contains("status:         succeeded");
    }
  }

  @Test
  void noRecoveryNoRungs_printsNeitherLine() {
    String text = show(live(0, List.of()));

    assertThat(text).doesNotContain("link recovered").doesNotContain("policy:");
  }
}
