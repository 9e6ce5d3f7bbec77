package dev.ferry.cli.migration;

import static dev.ferry.api.MigrationStatus.RUNNING;
import static dev.ferry.api.MigrationStatus.SUCCEEDED;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.Json;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.MigrationStatus;
import dev.ferry.api.MigrationView;
import dev.ferry.cli.CliRunner;
import dev.ferry.cli.FakeController;
import dev.ferry.cli.Samples;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MigrateLiveTest {

  private static final long GIB = Samples.GIB;
  private static final String NL = System.lineSeparator();

  private final FakeController fake = new FakeController();

  @AfterEach
  void stop() {
    fake.close();
  }

  /** A live migration of vm web from host1 to host2. */
  static MigrationView live(String id, MigrationStatus status, String phase, long transferred) {
    boolean running = status == RUNNING;
    boolean ok = status == SUCCEEDED;
    return new MigrationView(id, "live", "web", "host1", "host2", status, phase, Instant.parse("2026-11-02T10:15:30Z"),
        running ? null : Instant.parse("2026-11-02T10:15:34.200Z"), running ? null : 4_200L, transferred,
        GIB - Math.min(GIB, transferred), GIB, running ? 100.0 * (1 << 20) : null, 8.0 * (1 << 20), 3, null,
        ok ? 42L : null, ok ? 55L : null, false, 0, null, null, List.of(), 0, List.of(), null, null, List.of());
  }

  @Test
  void migrateLive_everyFlag_sendsTheExactRequest() throws Exception {
    fake.reply("POST /api/migrations/live", 201, live("m-1", RUNNING, "pending", 0));

    var result = new CliRunner().against(fake, "migrate", "live", "web", "--to", "host2", "--max-downtime", "500",
        "--bandwidth", "250.5", "--postcopy", "NEVER", "--auto-converge", "--multifd", "4", "--compress", "zstd",
        "--copy-storage", "--target-pool", "fast", "--timeout", "10m", "--detach");

    assertThat(result.exit()).as(result.err()).isZero();
    FakeController.Request r = fake.requests().getFirst();
    assertThat(r.method() + " " + r.target()).isEqualTo("POST /api/migrations/live");
    assertThat(Json.mapper().readValue(r.body(), LiveMigrationRequest.class)).isEqualTo(new LiveMigrationRequest("web",
        "host2", 500L, 250.5, "never", true, 4, "zstd", true, "fast", 600_000L));
    var json = Json.mapper().readTree(r.body());
    assertThat(json.get("max_downtime_ms").asLong()).isEqualTo(500);
    assertThat(json.get("timeout_ms").asLong()).isEqualTo(600_000);
    assertThat(result.out()).isEqualTo("m-1" + NL);
  }

  @Test
  void migrateLive_onlyRequiredFlags_sendsTheDefaults_andLeavesPostcopyToTheController() throws Exception {
    fake.reply("POST /api/migrations/live", 201, live("m-1", RUNNING, "pending", 0));

    var result = new CliRunner().against(fake, "migrate", "live", "web", "--to", "host2", "--detach");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(Json.mapper().readValue(fake.requests().getFirst().body(), LiveMigrationRequest.class))
        .isEqualTo(new LiveMigrationRequest("web", "host2", 300L, null, null, false, null, null, false, null, null));
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource(delimiter = '|', value = {
      "--max-downtime | 0        | max-downtime '0' is not valid: whole milliseconds, 1 to 600000",
      "--max-downtime | -5       | max-downtime '-5' is not valid",
      "--max-downtime | 1.5      | max-downtime '1.5' is not valid",
      "--max-downtime | 700000   | max-downtime '700000' is not valid",
      "--bandwidth    | 0        | bandwidth '0' is not valid: a number of MiB/s more than 0",
      "--bandwidth    | fast     | bandwidth 'fast' is not valid",
      "--postcopy     | sometimes | postcopy 'sometimes' is not valid: never, auto or always",
      "--multifd      | 0        | multifd '0' is not valid: 1 to 64 channels",
      "--multifd      | 65       | multifd '65' is not valid",
      "--multifd      | two      | multifd 'two' is not valid",
      "--compress     | lz4      | compress 'lz4' is not valid: none, xbzrle or zstd",
      "--compress     | zstd     | compress 'zstd' needs --multifd",
      "--target-pool  | fast     | --target-pool needs --copy-storage",
      "--timeout      | soon     | duration 'soon' is not valid",
      "--timeout      | 0s       | timeout '0' is not valid",
      "--timeout      | 10       | duration '10' is not valid: a number needs a unit (ms, s, m or h), e.g. 10s",
      "--to           | ' '      | to ' ' is not valid: a host name"})
  void migrateLive_badValue_exitsTwoNamingFieldValueAllowedAndSendsNothing(String flag, String value, String message) {
    List<String> args = new ArrayList<>(List.of("migrate", "live", "web"));
    if (!flag.equals("--to")) args.addAll(List.of("--to", "host2"));
    args.addAll(List.of(flag, value));

    var result = new CliRunner().against(fake, args.toArray(String[]::new));

    assertThat(result.exit()).as(result.err()).isEqualTo(2);
    assertThat(result.err()).startsWith("ferry: ").contains(message);
    assertThat(fake.requests()).isEmpty();
  }

  @Test
  void migrateLive_conflictingFlags_exitTwoAndSendNothing() {
    var always = new CliRunner().against(fake, "migrate", "live", "web", "--to", "host2", "--postcopy", "always",
        "--multifd", "2");
    var xbzrle = new CliRunner().against(fake, "migrate", "live", "web", "--to", "host2", "--compress", "xbzrle",
        "--multifd", "2");

    assertThat(always.exit()).isEqualTo(2);
    assertThat(always.err()).contains("postcopy 'always' cannot be combined with --multifd");
    assertThat(xbzrle.exit()).isEqualTo(2);
    assertThat(xbzrle.err()).contains("compress 'xbzrle' does not work with --multifd");
    assertThat(fake.requests()).isEmpty();
  }

  @Test
  void migrateLive_noTarget_exitsTwoNamingTheOption() {
    var result = new CliRunner().against(fake, "migrate", "live", "web");

    assertThat(result.exit()).isEqualTo(2);
    assertThat(result.err()).contains("--to");
    assertThat(fake.requests()).isEmpty();
  }

  @Test
  void migrateLive_follow_printsTheSummaryWithDowntimeAndPasses() {
    fake.reply("POST /api/migrations/live", 201, live("m-1", RUNNING, "pending", 0))
        .reply("GET /api/migrations/m-1", 200, live("m-1", RUNNING, "migrating", GIB / 2))
        .reply("GET /api/migrations/m-1", 200, live("m-1", SUCCEEDED, "done", GIB));

    var result = new CliRunner().against(fake, "migrate", "live", "web", "--to", "host2");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(result.out()).isEqualTo("migration m-1 succeeded in 4.2 s: live of vm web host1 -> host2, downtime 42 ms,"
        + " 3 passes" + NL);
  }

  @Test
  void migrateLive_help_namesEveryFlagAndHowToCancel() {
    var result = new CliRunner().run("migrate", "live", "--help");

    assertThat(result.exit()).isZero();
    assertThat(result.out()).contains("--to=HOST", "--max-downtime=MS", "--bandwidth=MiB/s", "--postcopy=never|auto|always",
        "--auto-converge", "--multifd=N", "--compress=none|xbzrle|zstd", "--copy-storage", "--target-pool=POOL",
        "--timeout=DURATION", "--detach", "--json", "Ctrl-C only stops following", "To cancel it: ferry migration cancel ID");
  }
}
