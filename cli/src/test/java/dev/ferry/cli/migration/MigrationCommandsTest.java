package dev.ferry.cli.migration;

import static dev.ferry.api.MigrationStatus.FAILED;
import static dev.ferry.api.MigrationStatus.RUNNING;
import static dev.ferry.api.MigrationStatus.SUCCEEDED;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.ferry.api.Json;
import dev.ferry.api.MigrationStatus;
import dev.ferry.api.MigrationView;
import dev.ferry.api.Problem;
import dev.ferry.cli.CliRunner;
import dev.ferry.cli.FakeController;
import dev.ferry.cli.Samples;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MigrationCommandsTest {

  private static final long GIB = Samples.GIB;
  private static final String NL = System.lineSeparator();

  private final FakeController fake = new FakeController();

  @AfterEach
  void stop() {
    fake.close();
  }

  private static List<MigrationView> two() {
    return List.of(Samples.storage("m-2", RUNNING, "mirror", GIB, null),
        Samples.storage("m-1", FAILED, "mirror", 3 * GIB, "disk0: ENOSPC in pool fast"));
  }

  @Test
  void migrationList_json_parsesBackIntoMigrationViews() throws Exception {
    fake.reply("GET /api/migrations", 200, two());

    var result = new CliRunner().against(fake, "migration", "list", "--json");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(Json.mapper().readValue(result.out(), new TypeReference<List<MigrationView>>() {})).isEqualTo(two());
  }

  @Test
  void migrationList_table_oneAwkableRowPerMigration() {
    fake.reply("GET /api/migrations", 200, two());

    var result = new CliRunner().against(fake, "migration", "list");

    assertThat(result.out().lines().toList()).containsExactly(
        "ID   KIND     VM   SOURCE→TARGET  STATUS   PHASE   PROGRESS  TIME",
        "m-2  storage  web  local→fast     running  mirror  25%       -",
        "m-1  storage  web  local→fast     failed   mirror  75%       1m12s");
  }

  @Test
  void migrationList_filtersAndLimit_areQueryParameters() {
    fake.reply("GET /api/migrations?vm=web&host=h1&status=failed&phase=mirror&limit=1", 200, List.of(two().get(1)));

    var result = new CliRunner().against(fake, "migration", "list", "--vm", "web", "--host", "h1", "--status", "failed",
        "--phase", "mirror", "--limit", "1");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(result.out().lines().toList()).hasSize(2).last().asString().startsWith("m-1 ");
    assertThat(result.err()).contains("more: ferry migration list --limit 1 --after m-1 --vm web --host h1");
  }

  @Test
  void migrationShow_json_parsesBackIntoMigrationView() throws Exception {
    MigrationView m = Samples.storage("m-1", SUCCEEDED, "done", 4 * GIB, null);
    fake.reply("GET /api/migrations/m-1", 200, m);

    var result = new CliRunner().against(fake, "migration", "show", "m-1", "--json");

    assertThat(Json.mapper().readValue(result.out(), MigrationView.class)).isEqualTo(m);
  }

  @Test
  void migrationShow_succeeded_readableSizesTimesAndVerified() {
    fake.reply("GET /api/migrations/m-1", 200, Samples.storage("m-1", SUCCEEDED, "done", 4 * GIB, null));

    var result = new CliRunner().against(fake, "migration", "show", "m-1");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(result.out())
        .contains("status:         succeeded" + NL)
        .contains("disks:          disk0" + NL)
        .contains("total time:     1m 12s" + NL)
        .contains("progress:       100% (4 GiB of 4 GiB, 0 B remaining)" + NL)
        .contains("downtime:       12 ms" + NL)
        .contains("observed pause: 15 ms" + NL)
        .contains("verified:       yes" + NL)
        .doesNotContain("reason:");
  }

  @Test
  void migrationShow_failed_showsTheReasonAndSkippedVerification() {
    fake.reply("GET /api/migrations/m-1", 200, Samples.storage("m-1", FAILED, "mirror", 3 * GIB, "disk0: ENOSPC"));

    var result = new CliRunner().against(fake, "migration", "show", "m-1");

    assertThat(result.out())
        .contains("reason:         disk0: ENOSPC" + NL)
        .contains("progress:       75% (3 GiB of 4 GiB, 1 GiB remaining)" + NL)
        .contains("verified:       skipped" + NL)
        .contains("downtime:       -" + NL);
  }

  @Test
  void migrationShow_idWithSlash_isOnePathSegment() {
    new CliRunner().against(fake, "migration", "show", "../vms");

    assertThat(fake.requests().getFirst().path()).isEqualTo("/api/migrations/..%2Fvms");
  }

  @Test
  void migrationCancel_beforePivot_postsCancelAndPrintsTheStatus() {
    fake.reply("POST /api/migrations/m-1/cancel", 200,
        Samples.storage("m-1", MigrationStatus.CANCELLED, "mirror", GIB, "cancelled by user"));

    var result = new CliRunner().against(fake, "migration", "cancel", "m-1");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(fake.requests()).extracting(r -> r.method() + " " + r.target())
        .containsExactly("POST /api/migrations/m-1/cancel");
    assertThat(result.out()).isEqualTo("migration m-1: cancelled" + NL);
  }

  @Test
  void migrationCancel_acceptedWithoutBody_printsCancelRequested() {
    fake.reply("POST /api/migrations/m-1/cancel", 202, "");

    var result = new CliRunner().against(fake, "migration", "cancel", "m-1");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(result.out()).isEqualTo("migration m-1: cancel requested" + NL);
  }

  @Test
  void migrationCancel_afterPointOfNoReturn_exitsOneWithTheServersReason() {
    fake.reply("POST /api/migrations/m-1/cancel", 409,
        Problem.of(409, "conflict", "disk0 is already pivoted to pool fast: the migration rolls forward"));

    var result = new CliRunner().against(fake, "migration", "cancel", "m-1");

    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.err()).isEqualTo("ferry: cannot cancel migration m-1: disk0 is already pivoted to pool fast:"
        + " the migration rolls forward" + NL);
  }

  @Test
  void migration_withoutVerb_exitsTwoListingVerbs() {
    var result = new CliRunner().run("migration");

    assertThat(result.exit()).isEqualTo(2);
    assertThat(result.err()).contains("list").contains("show").contains("cancel");
  }
}
