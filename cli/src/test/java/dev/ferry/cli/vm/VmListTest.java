package dev.ferry.cli.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.Paging;
import dev.ferry.api.VmView;
import dev.ferry.cli.CliRunner;
import dev.ferry.cli.FakeController;
import dev.ferry.cli.Samples;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code ferry vm list}: all pages by default, one page with --limit, filters as query parameters. */
class VmListTest {

  private final FakeController fake = new FakeController();

  @AfterEach
  void stop() {
    fake.close();
  }

  static List<VmView> vms(int from, int count) {
    List<VmView> out = new ArrayList<>();
    for (int i = from; i < from + count; i++) out.add(Samples.vm(String.format("vm%05d", i)));
    return out;
  }

  @Test
  void list_noLimit_followsEveryPageAndPrintsOneTable() {
    fake.reply("GET /api/vms", 200, vms(0, Paging.MAX_LIMIT));
    fake.reply("GET /api/vms?limit=1000&after=vm00999", 200, vms(1000, 3));

    var result = new CliRunner().against(fake, "vm", "list");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(result.out().lines().count()).isEqualTo(1 + Paging.MAX_LIMIT + 3);
    assertThat(result.out()).contains("vm01002");
    assertThat(fake.requests()).extracting(FakeController.Request::target)
        .containsExactly("/api/vms", "/api/vms?limit=1000&after=vm00999");
  }

  @Test
  void list_limitAndFilters_asksForOnePageAndSaysHowToGetTheNext() {
    fake.reply("GET /api/vms?host=h1&state=running&limit=2&after=a", 200, vms(0, 2));

    var result = new CliRunner().against(fake, "vm", "list", "--host", "h1", "--state", "RUNNING", "--limit", "2",
        "--after", "a");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(result.out().lines().count()).isEqualTo(3);
    assertThat(result.err()).contains("more: ferry vm list --limit 2 --after vm00001 --host h1 --state RUNNING");
  }

  @Test
  void list_badLimitOrAfterWithoutLimit_isAUsageErrorBeforeAnyRequest() {
    var zero = new CliRunner().against(fake, "vm", "list", "--limit", "0");
    var after = new CliRunner().against(fake, "vm", "list", "--after", "x");

    assertThat(zero.exit()).isNotZero();
    assertThat(zero.err()).contains("--limit '0' is not valid: a whole number from 1 to 1000");
    assertThat(after.err()).contains("--after needs --limit");
    assertThat(fake.requests()).isEmpty();
  }
}
