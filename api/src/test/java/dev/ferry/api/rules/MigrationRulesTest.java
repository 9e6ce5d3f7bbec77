package dev.ferry.api.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.StorageMigrationRequest;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** One rule set, two vocabularies: the REST API's JSON names and the CLI's options. */
class MigrationRulesTest {

  private static LiveMigrationRequest live(Long downtime, Double bandwidth, String postcopy, Integer multifd,
      String compress, Boolean copy, String pool, Long timeout) {
    return new LiveMigrationRequest("web", "host2", downtime, bandwidth, postcopy, null, multifd, compress, copy, pool,
        timeout);
  }

  private static RuleViolation liveViolation(LiveMigrationRequest r, Spelling s) {
    try {
      MigrationRules.checkLive(r, s);
    } catch (RuleViolation v) {
      return v;
    }
    throw new AssertionError("no rule broken by " + r);
  }

  @ParameterizedTest
  @EnumSource(Spelling.class)
  void checkLive_defaultsAndFullRequest_pass(Spelling s) {
    assertThatCode(() -> MigrationRules.checkLive(live(null, null, null, null, null, null, null, null), s))
        .doesNotThrowAnyException();
    assertThatCode(() -> MigrationRules.checkLive(live(600_000L, 12.5, "auto", 4, "zstd", true, "fast", 1L), s))
        .doesNotThrowAnyException();
  }

  @Test
  void checkLive_valueOutOfRange_namesFieldValueAndAllowedInEachSpelling() {
    RuleViolation api = liveViolation(live(0L, null, null, null, null, null, null, null), Spelling.API);
    assertThat(api).hasMessage("max_downtime_ms '0' is not valid: whole milliseconds, 1 to 600000");
    assertThat(List.of(api.field(), api.value(), api.allowed()))
        .containsExactly("max_downtime_ms", "0", "whole milliseconds, 1 to 600000");

    assertThat(liveViolation(live(700_000L, null, null, null, null, null, null, null), Spelling.CLI))
        .hasMessage("max-downtime '700000' is not valid: whole milliseconds, 1 to 600000");
    assertThat(liveViolation(live(null, -1.0, null, null, null, null, null, null), Spelling.API))
        .hasMessage("bandwidth_mib_s '-1.0' is not valid: a number of MiB/s more than 0, e.g. 100 or 12.5");
    assertThat(liveViolation(live(null, Double.NaN, null, null, null, null, null, null), Spelling.CLI).field())
        .isEqualTo("bandwidth");
    assertThat(liveViolation(live(null, 2e6, null, null, null, null, null, null), Spelling.CLI).field())
        .isEqualTo("bandwidth");
    assertThat(liveViolation(live(null, null, "sometimes", null, null, null, null, null), Spelling.API))
        .hasMessage("postcopy 'sometimes' is not valid: never, auto or always");
    assertThat(liveViolation(live(null, null, null, 65, null, null, null, null), Spelling.API))
        .hasMessage("multifd '65' is not valid: 1 to 64 channels");
    assertThat(liveViolation(live(null, null, null, null, "lz4", null, null, null), Spelling.API))
        .hasMessage("compress 'lz4' is not valid: none, xbzrle or zstd");
    assertThat(liveViolation(live(null, null, null, null, null, true, "Fast", null), Spelling.CLI).getMessage())
        .startsWith("target-pool 'Fast' is not valid: a pool name: 1-63 characters");
    assertThat(liveViolation(live(null, null, null, null, null, null, null, 0L), Spelling.CLI))
        .hasMessage("timeout '0' is not valid: more than 0 milliseconds");
    assertThat(liveViolation(live(null, null, null, null, null, null, null, -5L), Spelling.API))
        .hasMessage("timeout_ms '-5' is not valid: more than 0 milliseconds");
  }

  @Test
  void checkLive_optionsThatDoNotGoTogether_sayWhyInEachSpelling() {
    assertThat(liveViolation(live(null, null, null, null, "zstd", null, null, null), Spelling.CLI))
        .hasMessage("compress 'zstd' needs --multifd: qemu compresses with zstd only on multifd channels;"
            + " give --multifd or use xbzrle");
    assertThat(liveViolation(live(null, null, null, null, "zstd", null, null, null), Spelling.API))
        .hasMessage("compress 'zstd' needs multifd: qemu compresses with zstd only on multifd channels;"
            + " give multifd or use xbzrle");
    assertThat(liveViolation(live(null, null, null, 2, "xbzrle", null, null, null), Spelling.CLI))
        .hasMessage("compress 'xbzrle' does not work with --multifd; use zstd with --multifd");
    assertThat(liveViolation(live(null, null, "always", 2, null, null, null, null), Spelling.CLI))
        .hasMessage("postcopy 'always' cannot be combined with --multifd: qemu refuses post-copy on multifd channels");
    RuleViolation pool = liveViolation(live(null, null, null, null, null, false, "fast", null), Spelling.API);
    assertThat(pool).hasMessage("target_pool needs copy_storage: it names where copied disks go");
    assertThat(List.of(pool.field(), pool.value(), pool.allowed()))
        .containsExactly("target_pool", "fast", "only with copy_storage");
    assertThat(liveViolation(live(null, null, null, null, null, null, "fast", null), Spelling.CLI))
        .hasMessage("--target-pool needs --copy-storage: it names where copied disks go");
  }

  @Test
  void checkStorage_eachRule_namesFieldValueAndAllowed() {
    assertThatCode(() -> MigrationRules.checkStorage(
        new StorageMigrationRequest("web", "fast", List.of("disk0", "disk1"), "raw", 12.5, "none", true), Spelling.API))
        .doesNotThrowAnyException();
    assertThatThrownBy(() -> MigrationRules.checkStorage(
        new StorageMigrationRequest("web", " ", null, null, null, null, null), Spelling.CLI))
        .hasMessageStartingWith("to-pool ' ' is not valid: a pool name");
    assertThatThrownBy(() -> MigrationRules.checkStorage(
        new StorageMigrationRequest("web", "fast", List.of("disk0", "disk0"), null, null, null, null), Spelling.API))
        .hasMessage("disks[1] 'disk0' is given twice: name each disk once");
    assertThatThrownBy(() -> MigrationRules.checkStorage(
        new StorageMigrationRequest("web", "fast", List.of(""), null, null, null, null), Spelling.CLI))
        .hasMessage("disk '' is not valid: a disk id such as disk1");
    assertThatThrownBy(() -> MigrationRules.checkStorage(
        new StorageMigrationRequest("web", "fast", null, "vmdk", null, null, null), Spelling.API))
        .hasMessage("format 'vmdk' is not valid: qcow2 or raw");
    assertThatThrownBy(() -> MigrationRules.checkStorage(
        new StorageMigrationRequest("web", "fast", null, null, null, "some", null), Spelling.API))
        .hasMessage("verify 'some' is not valid: full or none");
    assertThatThrownBy(() -> MigrationRules.checkStorage(
        new StorageMigrationRequest("web", "fast", null, null, 0.0, null, null), Spelling.API))
        .hasMessage("bandwidth_mib_s '0.0' is not valid: a number of MiB/s more than 0, e.g. 100 or 12.5");
  }
}
