package dev.ferry.cli.migration;

import static dev.ferry.api.MigrationStatus.CANCELLED;
import static dev.ferry.api.MigrationStatus.FAILED;
import static dev.ferry.api.MigrationStatus.RUNNING;
import static dev.ferry.api.MigrationStatus.SUCCEEDED;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.Json;
import dev.ferry.api.MigrationView;
import dev.ferry.api.Problem;
import dev.ferry.api.StorageMigrationRequest;
import dev.ferry.cli.CliRunner;
import dev.ferry.cli.FakeController;
import dev.ferry.cli.Samples;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

class MigrateStorageTest {

  private static final long GIB = Samples.GIB;
  private static final String NL = System.lineSeparator();

  private final FakeController fake = new FakeController();

  @AfterEach
  void stop() {
    fake.close();
  }

  /** The controller's answers to one followed migration: created, mirror twice, ready, pivot, then {@code last}. */
  private void script(MigrationView last) {
    fake.reply("POST /api/migrations/storage", 201, Samples.storage("m-1", RUNNING, "preflight", 0, null));
    for (MigrationView v : List.of(
        Samples.storage("m-1", RUNNING, "mirror", GIB, null),
        Samples.storage("m-1", RUNNING, "mirror", 3 * GIB, null),
        Samples.storage("m-1", RUNNING, "ready", 4 * GIB, null),
        Samples.storage("m-1", RUNNING, "pivot", 4 * GIB, null),
        last)) {
      fake.reply("GET /api/migrations/m-1", 200, v);
    }
  }

  private List<String> getsAfterPost() {
    return fake.requests().stream().skip(1).map(r -> r.method() + " " + r.target()).distinct().toList();
  }

  @Test
  void migrateStorage_everyFlag_sendsTheExactRequest() throws Exception {
    fake.reply("POST /api/migrations/storage", 201, Samples.storage("m-1", RUNNING, "preflight", 0, null));

    var result = new CliRunner().against(fake, "migrate", "storage", "web", "--to-pool", "fast", "--disk", "disk0",
        "--disk", "disk2", "--format", "RAW", "--bandwidth", "12.5", "--verify", "none", "--keep-source", "--detach");

    assertThat(result.exit()).as(result.err()).isZero();
    FakeController.Request r = fake.requests().getFirst();
    assertThat(r.method() + " " + r.target()).isEqualTo("POST /api/migrations/storage");
    assertThat(Json.mapper().readValue(r.body(), StorageMigrationRequest.class))
        .isEqualTo(new StorageMigrationRequest("web", "fast", List.of("disk0", "disk2"), "raw", 12.5, "none", true));
    assertThat(Json.mapper().readTree(r.body()).get("bandwidth_mib_s").asDouble()).isEqualTo(12.5);
  }

  @Test
  void migrateStorage_onlyRequiredFlags_sendsVerifyFullAndLeavesTheRestToTheController() throws Exception {
    fake.reply("POST /api/migrations/storage", 201, Samples.storage("m-1", RUNNING, "preflight", 0, null));

    var result = new CliRunner().against(fake, "migrate", "storage", "web", "--to-pool", "fast", "--detach");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(Json.mapper().readValue(fake.requests().getFirst().body(), StorageMigrationRequest.class))
        .isEqualTo(new StorageMigrationRequest("web", "fast", List.of(), null, null, "full", false));
  }

  @Test
  void migrateStorage_noAdaptiveRate_sendsAdaptiveRateFalse() throws Exception {
    fake.reply("POST /api/migrations/storage", 201, Samples.storage("m-1", RUNNING, "preflight", 0, null));

    var result = new CliRunner().against(fake, "migrate", "storage", "web", "--to-pool", "fast", "--no-adaptive-rate",
        "--detach");

    assertThat(result.exit()).as(result.err()).isZero();
    var sent = Json.mapper().readValue(fake.requests().getFirst().body(), StorageMigrationRequest.class);
    assertThat(sent).isEqualTo(new StorageMigrationRequest("web", "fast", List.of(), null, null, "full", false, false));
    assertThat(sent.adaptive()).isFalse();
    assertThat(Json.mapper().readTree(fake.requests().getFirst().body()).get("adaptive_rate").asBoolean(true)).isFalse();
  }

  @Test
  void migrateStorage_byDefault_leavesTheAdaptiveRateOn_andABandwidthTurnsItOff() {
    assertThat(new StorageMigrationRequest("web", "fast", List.of(), null, null, "full", false).adaptive()).isTrue();
    assertThat(new StorageMigrationRequest("web", "fast", List.of(), null, 50.0, "full", false).adaptive()).isFalse();
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource(delimiter = '|', value = {
      "--bandwidth | 0        | bandwidth '0' is not valid: a number of MiB/s more than 0",
      "--bandwidth | -5       | bandwidth '-5' is not valid",
      "--bandwidth | fast     | bandwidth 'fast' is not valid",
      "--bandwidth | NaN      | bandwidth 'NaN' is not valid",
      "--bandwidth | Infinity | bandwidth 'Infinity' is not valid",
      "--bandwidth | 0x1p3    | bandwidth '0x1p3' is not valid",
      "--verify    | quick    | verify 'quick' is not valid: full or none",
      "--format    | vmdk     | format 'vmdk' is not valid: qcow2 or raw",
      "--disk      | ''       | disk '' is not valid: a disk id",
      "--to-pool   | ' '      | to-pool ' ' is not valid: a pool name"})
  void migrateStorage_badValue_exitsTwoNamingFieldValueAllowedAndSendsNothing(String flag, String value, String message) {
    List<String> args = new ArrayList<>(List.of("migrate", "storage", "web"));
    if (!flag.equals("--to-pool")) args.addAll(List.of("--to-pool", "fast"));
    args.addAll(List.of(flag, value));

    var result = new CliRunner().against(fake, args.toArray(String[]::new));

    assertThat(result.exit()).isEqualTo(2);
    assertThat(result.err()).startsWith("ferry: ").contains(message);
    assertThat(fake.requests()).isEmpty();
  }

  @Test
  void migrateStorage_sameDiskTwice_exitsTwoAndSendsNothing() {
    var result = new CliRunner().against(fake, "migrate", "storage", "web", "--to-pool", "fast", "--disk", "disk0",
        "--disk", "disk0");

    assertThat(result.exit()).isEqualTo(2);
    assertThat(result.err()).contains("disk 'disk0' is given twice");
    assertThat(fake.requests()).isEmpty();
  }

  @Test
  void migrateStorage_noPool_exitsTwoNamingTheOption() {
    var result = new CliRunner().against(fake, "migrate", "storage", "web");

    assertThat(result.exit()).isEqualTo(2);
    assertThat(result.err()).contains("--to-pool");
    assertThat(fake.requests()).isEmpty();
  }

  @Test
  void migrateStorage_detach_printsOnlyTheIdAndDoesNotFollow() {
    script(Samples.storage("m-1", SUCCEEDED, "done", 4 * GIB, null));

    var result = new CliRunner().against(fake, "migrate", "storage", "web", "--to-pool", "fast", "--detach");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(result.out()).isEqualTo("m-1" + NL);
    assertThat(fake.requests()).hasSize(1);
  }

  @Test
  void migrateStorage_detachJson_printsTheCreatedView() throws Exception {
    script(Samples.storage("m-1", SUCCEEDED, "done", 4 * GIB, null));

    var result = new CliRunner().against(fake, "migrate", "storage", "web", "--to-pool", "fast", "--detach", "--json");

    assertThat(Json.mapper().readValue(result.out(), MigrationView.class))
        .isEqualTo(Samples.storage("m-1", RUNNING, "preflight", 0, null));
  }

  @Test
  void migrateStorage_followJson_oneLinePerChangeAndTheFinalViewLast() throws Exception {
    MigrationView done = Samples.storage("m-1", SUCCEEDED, "done", 4 * GIB, null);
    script(done);

    var result = new CliRunner().against(fake, "migrate", "storage", "web", "--to-pool", "fast", "--json");

    assertThat(result.exit()).as(result.err()).isZero();
    List<String> lines = result.out().lines().toList();
    List<String> phases = new ArrayList<>();
    for (String line : lines) phases.add(Json.mapper().readValue(line, MigrationView.class).phase());
    assertThat(phases).containsExactly("preflight", "mirror", "mirror", "ready", "pivot", "done");
    assertThat(Json.mapper().readValue(lines.getLast(), MigrationView.class)).isEqualTo(done);
    assertThat(getsAfterPost()).containsExactly("GET /api/migrations/m-1");
    assertThat(fake.requests()).hasSize(6); // the POST, then polls until the final status and no more
    assertThat(result.err()).isEmpty();
  }

  @Test
  void migrateStorage_follow_showsEachPhaseOnStderrAndTheSummaryOnStdout() {
    script(Samples.storage("m-1", SUCCEEDED, "done", 4 * GIB, null));

    var result = new CliRunner().against(fake, "migrate", "storage", "web", "--to-pool", "fast");

    assertThat(result.exit()).as(result.err()).isZero();
    List<String> progress = result.err().lines().toList();
    assertThat(progress).extracting(l -> l.split(" ")[0])
        .containsExactly("preflight", "mirror", "mirror", "ready", "pivot", "succeeded");
    assertThat(progress.get(1)).contains("[#####---------------]  25%  1 GiB/4 GiB  64 MiB/s  ETA 48.0 s");
    assertThat(progress.getLast()).contains("100%");
    assertThat(result.out()).isEqualTo("migration m-1 succeeded in 1m 12s: storage of vm web local -> fast,"
        + " downtime 12 ms, verified yes" + NL);
  }

  @Test
  void migrateStorage_followFails_exitsOneWithTheReasonAndTheFinalJsonLast() throws Exception {
    MigrationView failed = Samples.storage("m-1", FAILED, "mirror", 2 * GIB,
        "disk0: no space left on device (ENOSPC) in pool fast; the vm keeps running on its old disk");
    script(failed);

    var result = new CliRunner().against(fake, "migrate", "storage", "web", "--to-pool", "fast", "--json");

    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.err()).isEqualTo("ferry: migration m-1 failed: disk0: no space left on device (ENOSPC) in pool"
        + " fast; the vm keeps running on its old disk" + NL);
    assertThat(Json.mapper().readValue(result.out().lines().toList().getLast(), MigrationView.class)).isEqualTo(failed);
  }

  @Test
  void migrateStorage_followCancelled_exitsOneSayingCancelled() {
    script(Samples.storage("m-1", CANCELLED, "mirror", 2 * GIB, "cancelled by user"));

    var result = new CliRunner().against(fake, "migrate", "storage", "web", "--to-pool", "fast");

    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.err()).endsWith("ferry: migration m-1 failed: cancelled: cancelled by user" + NL);
    assertThat(result.out()).isEmpty();
  }

  @Test
  void migrateStorage_createdAlreadyFailed_exitsOneWithoutPolling() {
    fake.reply("POST /api/migrations/storage", 201, Samples.storage("m-1", FAILED, "preflight", 0, "pool fast is on host2"));

    var result = new CliRunner().against(fake, "migrate", "storage", "web", "--to-pool", "fast");

    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.err()).contains("ferry: migration m-1 failed: pool fast is on host2");
    assertThat(fake.requests()).hasSize(1);
  }

  /** A controller restart in the middle of a migration must not end following: it recovers the migration. */
  @Test
  void migrateStorage_controllerAnswers503Once_keepsFollowingToSuccess() {
    fake.reply("POST /api/migrations/storage", 201, Samples.storage("m-1", RUNNING, "mirror", 0, null))
        .reply("GET /api/migrations/m-1", 503, Problem.of(503, "unavailable", "controller is recovering"))
        .reply("GET /api/migrations/m-1", 200, Samples.storage("m-1", SUCCEEDED, "done", 4 * GIB, null));

    var result = new CliRunner().against(fake, "migrate", "storage", "web", "--to-pool", "fast");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(result.err()).contains("ferry: controller is recovering; still trying to follow migration m-1");
  }

  @Test
  void migrateStorage_controllerGoneLongerThanPatience_exitsOneSayingItMayStillRun() {
    fake.reply("POST /api/migrations/storage", 201, Samples.storage("m-1", RUNNING, "mirror", 0, null))
        .reply("GET /api/migrations/m-1", 503, Problem.of(503, "unavailable", "controller is recovering"));

    var result = new CliRunner().env("FERRY_TOKEN", FakeController.TOKEN).run(root -> patience(root, Duration.ZERO), "migrate", "storage", "web",
        "--to-pool", "fast", "--controller", fake.url());

    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.err()).contains("ferry: gave up following migration m-1").contains("ferry migration show m-1");
  }

  @Test
  void migrateStorage_migrationVanishes_exitsOneAtOnce() {
    fake.reply("POST /api/migrations/storage", 201, Samples.storage("m-1", RUNNING, "mirror", 0, null));

    var result = new CliRunner().against(fake, "migrate", "storage", "web", "--to-pool", "fast");

    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.err()).endsWith("ferry: no route GET /api/migrations/m-1" + NL);
    assertThat(fake.requests()).hasSize(2);
  }

  @Test
  void migrateStorage_help_namesEveryFlagAndHowToCancel() {
    var result = new CliRunner().run("migrate", "storage", "--help");

    assertThat(result.exit()).isZero();
    assertThat(result.out()).contains("--to-pool=POOL", "--disk=ID", "--format=qcow2|raw", "--bandwidth=MiB/s",
        "--verify=full|none", "--keep-source", "--detach", "--json", "Ctrl-C only stops following")
        .contains("To cancel it: ferry migration cancel ID");
  }

  private static void patience(CommandLine root, Duration patience) {
    MigrateStorage storage = root.getSubcommands().get("migrate").getSubcommands().get("storage").getCommand();
    storage.patience = patience;
  }
}
