package dev.ferry.cli.migration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.Json;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.MigrationPrediction;
import dev.ferry.cli.CliRunner;
import dev.ferry.cli.FakeController;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MigrateLiveDryRunTest {

  private final FakeController fake = new FakeController();

  private static final MigrationPrediction PREDICTION = new MigrationPrediction(9_898L, 155L, 16, 1, 119.2, "default",
      "no uncapped live migration between 'host1' and 'host2' succeeded yet: the default of 1 Gbit/s", 119.2, 300,
      1024, true, 2, "pre-copy", "converges by itself after 2 passes");

  @AfterEach
  void stop() {
    fake.close();
  }

  @Test
  void dryRun_postsTheSameRequestToTheDryRun_andPrintsThePrediction() throws Exception {
    fake.reply("POST /api/migrations/live/dry-run", 200, PREDICTION);

    var result = new CliRunner().against(fake, "migrate", "live", "web", "--to", "host2", "--bandwidth", "200",
        "--dry-run");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(fake.requests()).hasSize(1);
    FakeController.Request r = fake.requests().getFirst();
    assertThat(r.method() + " " + r.target()).isEqualTo("POST /api/migrations/live/dry-run");
    assertThat(Json.mapper().readValue(r.body(), LiveMigrationRequest.class)).isEqualTo(new LiveMigrationRequest("web",
        "host2", 300L, 200.0, null, false, null, null, false, null, null));
    assertThat(result.out()).contains("nothing started").contains("predicted total 9.9 s, downtime 155 ms")
        .contains("dirty rate 16.0 MiB/s").contains("link 119.2 MiB/s (default: ");
  }

  @Test
  void dryRun_json_printsTheMigrationPrediction() throws Exception {
    fake.reply("POST /api/migrations/live/dry-run", 200, PREDICTION);

    var result = new CliRunner().against(fake, "migrate", "live", "web", "--to", "host2", "--dry-run", "--json");

    assertThat(result.exit()).as(result.err()).isZero();
    var json = Json.mapper().readTree(result.out());
    assertThat(json.get("predicted_total_ms").asLong()).isEqualTo(9_898);
    assertThat(json.get("predicted_downtime_ms").asLong()).isEqualTo(155);
    assertThat(json.get("link_source").asText()).isEqualTo("default");
    assertThat(json.get("converges").asBoolean()).isTrue();
  }

  @Test
  void dryRun_refused_exitsAsTheMigrationWould() throws Exception {
    fake.reply("POST /api/migrations/live/dry-run", 409, dev.ferry.api.Problem.of(409, "conflict",
        "vm 'web' already runs on host 'host1'; name another host"));

    var result = new CliRunner().against(fake, "migrate", "live", "web", "--to", "host1", "--dry-run");

    assertThat(result.exit()).isNotZero();
    assertThat(result.err()).contains("already runs on host 'host1'");
  }
}
