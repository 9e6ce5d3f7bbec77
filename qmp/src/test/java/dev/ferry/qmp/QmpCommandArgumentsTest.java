package dev.ferry.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.qmp.block.BlockDirtyBitmapAdd;
import dev.ferry.qmp.block.BlockDirtyBitmapDisable;
import dev.ferry.qmp.block.BlockDirtyBitmapRemove;
import dev.ferry.qmp.block.BlockJobCancel;
import dev.ferry.qmp.block.BlockJobSetSpeed;
import dev.ferry.qmp.block.BlockJobComplete;
import dev.ferry.qmp.block.BlockdevAdd;
import dev.ferry.qmp.block.BlockdevDel;
import dev.ferry.qmp.block.BlockdevMirror;
import dev.ferry.qmp.block.JobDismiss;
import dev.ferry.qmp.block.QueryBlock;
import dev.ferry.qmp.block.QueryBlockJobs;
import dev.ferry.qmp.block.QueryBlockstats;
import dev.ferry.qmp.block.QueryNamedBlockNodes;
import dev.ferry.qmp.export.BlockExportAdd;
import dev.ferry.qmp.export.BlockExportDel;
import dev.ferry.qmp.export.NbdServerStart;
import dev.ferry.qmp.export.NbdServerStop;
import dev.ferry.qmp.export.QueryBlockExports;
import dev.ferry.qmp.machine.Pmemsave;
import dev.ferry.qmp.migration.Migrate;
import dev.ferry.qmp.migration.MigrateCancel;
import dev.ferry.qmp.migration.MigrateContinue;
import dev.ferry.qmp.migration.MigrateIncoming;
import dev.ferry.qmp.migration.MigratePause;
import dev.ferry.qmp.migration.MigrateRecover;
import dev.ferry.qmp.migration.MigrateSetCapabilities;
import dev.ferry.qmp.migration.MigrateSetParameters;
import dev.ferry.qmp.migration.MigrateStartPostcopy;
import dev.ferry.qmp.migration.QueryMigrate;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each command's name and argument JSON, byte for byte, as QAPI (QEMU 7.2) expects them. Every
 * spelling here was also sent to a real QEMU 7.2, which accepted it.
 */
class QmpCommandArgumentsTest {

  private static final String NO_ARGUMENTS = "{}";

  private static Map<String, Object> ordered(Object... keysAndValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }

  private static Map<String, Boolean> capabilities(Object... keysAndStates) {
    Map<String, Boolean> map = new LinkedHashMap<>();
    ordered(keysAndStates).forEach((key, state) -> map.put(key, (Boolean) state));
    return map;
  }

  static Stream<Arguments> commands() {
    return Stream.of(
        // block
        Arguments.of(new BlockdevAdd(ordered("driver", "qcow2", "node-name", "tgt0",
                "file", ordered("driver", "file", "filename", Path.of("/images/tgt.qcow2")))),
            "blockdev-add", "{\"driver\":\"qcow2\",\"node-name\":\"tgt0\",\"file\":"
                + "{\"driver\":\"file\",\"filename\":\"/images/tgt.qcow2\"}}"),
        Arguments.of(new BlockdevDel("tgt0"), "blockdev-del", "{\"node-name\":\"tgt0\"}"),
        Arguments.of(new BlockdevMirror("mirror0", "disk0", "tgt0", BlockdevMirror.Sync.FULL,
                BlockdevMirror.CopyMode.WRITE_BLOCKING, false),
            "blockdev-mirror", "{\"job-id\":\"mirror0\",\"device\":\"disk0\",\"target\":\"tgt0\","
                + "\"sync\":\"full\",\"copy-mode\":\"write-blocking\",\"auto-dismiss\":false}"),
        Arguments.of(new BlockdevMirror("mirror0", "disk0", "tgt0", BlockdevMirror.Sync.TOP,
                BlockdevMirror.CopyMode.BACKGROUND, true)
                .withSpeed(1 << 20).withGranularity(65536).withBufSize(1 << 24).withAutoFinalize(false),
            "blockdev-mirror", "{\"job-id\":\"mirror0\",\"device\":\"disk0\",\"target\":\"tgt0\","
                + "\"sync\":\"top\",\"speed\":1048576,\"granularity\":65536,"
                + "\"buf-size\":16777216,\"copy-mode\":\"background\",\"auto-finalize\":false,\"auto-dismiss\":true}"),
        Arguments.of(new BlockJobComplete("mirror0"), "block-job-complete",
            "{\"device\":\"mirror0\"}"),
        Arguments.of(new BlockJobCancel("mirror0"), "block-job-cancel",
            "{\"device\":\"mirror0\",\"force\":false}"),
        Arguments.of(new BlockJobCancel("mirror0", true), "block-job-cancel",
            "{\"device\":\"mirror0\",\"force\":true}"),
        Arguments.of(new JobDismiss("mirror0"), "job-dismiss", "{\"id\":\"mirror0\"}"),
        Arguments.of(new QueryBlockJobs(), "query-block-jobs", NO_ARGUMENTS),
        Arguments.of(new BlockJobSetSpeed("mirror0", 64L << 20), "block-job-set-speed",
            "{\"device\":\"mirror0\",\"speed\":67108864}"),
        Arguments.of(new QueryBlockstats(), "query-blockstats", NO_ARGUMENTS),
        Arguments.of(new QueryNamedBlockNodes(), "query-named-block-nodes", "{\"flat\":true}"),
        Arguments.of(new QueryBlock(), "query-block", NO_ARGUMENTS),
        // bitmaps
        Arguments.of(new BlockDirtyBitmapAdd("disk0", "bm0", 65536), "block-dirty-bitmap-add",
            "{\"node\":\"disk0\",\"name\":\"bm0\",\"granularity\":65536}"),
        Arguments.of(new BlockDirtyBitmapAdd("disk0", "bm0", OptionalLong.empty(),
                Optional.of(true), Optional.of(true)), "block-dirty-bitmap-add",
            "{\"node\":\"disk0\",\"name\":\"bm0\",\"persistent\":true,\"disabled\":true}"),
        Arguments.of(new BlockDirtyBitmapRemove("disk0", "bm0"), "block-dirty-bitmap-remove",
            "{\"node\":\"disk0\",\"name\":\"bm0\"}"),
        Arguments.of(new BlockDirtyBitmapDisable("disk0", "bm0"), "block-dirty-bitmap-disable",
            "{\"node\":\"disk0\",\"name\":\"bm0\"}"),
        Arguments.of(new dev.ferry.qmp.block.Transaction(List.of(new BlockDirtyBitmapAdd("disk0", "bm1", 65536),
            new BlockDirtyBitmapDisable("disk0", "bm0"))), "transaction",
            "{\"actions\":[{\"type\":\"block-dirty-bitmap-add\",\"data\":{\"node\":\"disk0\",\"name\":\"bm1\","
                + "\"granularity\":65536}},{\"type\":\"block-dirty-bitmap-disable\",\"data\":{\"node\":\"disk0\","
                + "\"name\":\"bm0\"}}]}"),
        Arguments.of(new dev.ferry.qmp.machine.SetAction("pause"), "set-action", "{\"shutdown\":\"pause\"}"),
        // nbd and exports
        Arguments.of(NbdServerStart.unix(Path.of("/run/ferry/vm1/nbd.sock")), "nbd-server-start",
            "{\"addr\":{\"type\":\"unix\",\"data\":{\"path\":\"/run/ferry/vm1/nbd.sock\"}}}"),
        Arguments.of(NbdServerStart.tcp("10.0.0.2", 10809), "nbd-server-start",
            "{\"addr\":{\"type\":\"inet\",\"data\":{\"host\":\"10.0.0.2\",\"port\":\"10809\"}}}"),
        Arguments.of(NbdServerStart.tcp("10.0.0.2", 49152).withTls(new NbdServerStart.Tls("tls-in", "authz-in", 1)),
            "nbd-server-start", "{\"addr\":{\"type\":\"inet\",\"data\":{\"host\":\"10.0.0.2\",\"port\":\"49152\"}},"
                + "\"tls-creds\":\"tls-in\",\"tls-authz\":\"authz-in\",\"max-connections\":1}"),
        Arguments.of(dev.ferry.qmp.object.ObjectAdd.tlsCredsX509("tls-in", Path.of("/etc/ferry/tls"),
            dev.ferry.qmp.object.ObjectAdd.Endpoint.SERVER), "object-add", "{\"qom-type\":\"tls-creds-x509\","
                + "\"id\":\"tls-in\",\"dir\":\"/etc/ferry/tls\",\"endpoint\":\"server\",\"verify-peer\":true}"),
        Arguments.of(dev.ferry.qmp.object.ObjectAdd.authzSimple("authz-in", "CN=host1"), "object-add",
            "{\"qom-type\":\"authz-simple\",\"id\":\"authz-in\",\"identity\":\"CN=host1\"}"),
        Arguments.of(new dev.ferry.qmp.object.ObjectDel("tls-in"), "object-del", "{\"id\":\"tls-in\"}"),
        Arguments.of(dev.ferry.qmp.object.ChardevAdd.server("ft-mirror0", new NbdServerStart.Address.Inet("10.0.0.3",
            49200)), "chardev-add", "{\"id\":\"ft-mirror0\",\"backend\":{\"type\":\"socket\",\"data\":{\"addr\":"
                + "{\"type\":\"inet\",\"data\":{\"host\":\"10.0.0.3\",\"port\":\"49200\"}},\"server\":true,"
                + "\"wait\":false}}}"),
        Arguments.of(dev.ferry.qmp.object.ChardevAdd.client("ft-pin0", new NbdServerStart.Address.Unix(
            Path.of("/run/vm/ft-pin0.sock"))), "chardev-add", "{\"id\":\"ft-pin0\",\"backend\":{\"type\":"
                + "\"socket\",\"data\":{\"addr\":{\"type\":\"unix\",\"data\":{\"path\":\"/run/vm/ft-pin0.sock\"}},"
                + "\"server\":false}}}"),
        Arguments.of(new dev.ferry.qmp.object.ChardevRemove("ft-mirror0"), "chardev-remove", "{\"id\":\"ft-mirror0\"}"),
        Arguments.of(new NbdServerStop(), "nbd-server-stop", NO_ARGUMENTS),
        Arguments.of(new BlockExportAdd("inc0", "disk0", "inc0", false, List.of("bm0")),
            "block-export-add", "{\"type\":\"nbd\",\"id\":\"inc0\",\"node-name\":\"disk0\","
                + "\"name\":\"inc0\",\"writable\":false,\"bitmaps\":[\"bm0\"]}"),
        Arguments.of(new BlockExportAdd("exp0", "disk0", "disk0", true), "block-export-add",
            "{\"type\":\"nbd\",\"id\":\"exp0\",\"node-name\":\"disk0\",\"name\":\"disk0\","
                + "\"writable\":true}"),
        Arguments.of(new BlockExportDel("exp0"), "block-export-del", "{\"id\":\"exp0\"}"),
        Arguments.of(new BlockExportDel("exp0", BlockExportDel.Mode.HARD), "block-export-del",
            "{\"id\":\"exp0\",\"mode\":\"hard\"}"),
        Arguments.of(new QueryBlockExports(), "query-block-exports", NO_ARGUMENTS),
        // migration
        Arguments.of(new MigrateSetCapabilities(capabilities("events", true, "multifd", true,
                "postcopy-ram", false)), "migrate-set-capabilities",
            "{\"capabilities\":[{\"capability\":\"events\",\"state\":true},"
                + "{\"capability\":\"multifd\",\"state\":true},"
                + "{\"capability\":\"postcopy-ram\",\"state\":false}]}"),
        Arguments.of(new MigrateSetParameters(ordered("max-bandwidth", 1L << 30,
                "downtime-limit", 300, "multifd-channels", 2)), "migrate-set-parameters",
            "{\"max-bandwidth\":1073741824,\"downtime-limit\":300,\"multifd-channels\":2}"),
        Arguments.of(new MigrateIncoming("tcp:0.0.0.0:4444"), "migrate-incoming",
            "{\"uri\":\"tcp:0.0.0.0:4444\"}"),
        Arguments.of(new Migrate("tcp:10.0.0.2:4444"), "migrate",
            "{\"uri\":\"tcp:10.0.0.2:4444\"}"),
        Arguments.of(Migrate.resume("tcp:10.0.0.2:4445"), "migrate",
            "{\"uri\":\"tcp:10.0.0.2:4445\",\"resume\":true}"),
        Arguments.of(new QueryMigrate(), "query-migrate", NO_ARGUMENTS),
        Arguments.of(new MigrateCancel(), "migrate_cancel", NO_ARGUMENTS),
        Arguments.of(new MigrateContinue("pre-switchover"), "migrate-continue",
            "{\"state\":\"pre-switchover\"}"),
        Arguments.of(new MigrateStartPostcopy(), "migrate-start-postcopy", NO_ARGUMENTS),
        Arguments.of(new MigratePause(), "migrate-pause", NO_ARGUMENTS),
        Arguments.of(new MigrateRecover("tcp:0:4445"), "migrate-recover",
            "{\"uri\":\"tcp:0:4445\"}"),
        // colo
        Arguments.of(dev.ferry.qmp.colo.XBlockdevChange.add("disk0-colo", "disk0-buddy"), "x-blockdev-change",
            "{\"parent\":\"disk0-colo\",\"node\":\"disk0-buddy\"}"),
        Arguments.of(dev.ferry.qmp.colo.XBlockdevChange.remove("disk0-colo", "children.1"), "x-blockdev-change",
            "{\"parent\":\"disk0-colo\",\"child\":\"children.1\"}"),
        Arguments.of(new dev.ferry.qmp.colo.HumanMonitorCommand("drive_del disk0-buddy"), "human-monitor-command",
            "{\"command-line\":\"drive_del disk0-buddy\"}"),
        // machine
        Arguments.of(new dev.ferry.qmp.machine.Stop(), "stop", NO_ARGUMENTS),
        Arguments.of(new Pmemsave(0, 134_209_536L, Path.of("/tmp/vm1.mem")), "pmemsave",
            "{\"val\":0,\"size\":134209536,\"filename\":\"/tmp/vm1.mem\"}"));
  }

  @ParameterizedTest(name = "{1} {2}")
  @MethodSource("commands")
  void command_nameAndArguments_areWhatQapiExpects(QmpCommand<?> command, String name,
      String argumentsJson) throws Exception {
    assertThat(command.name()).isEqualTo(name);
    assertThat(QmpCodec.MAPPER.writeValueAsString(command.arguments())).isEqualTo(argumentsJson);
  }

  @Test
  void blockdevMirror_onTheWire_isOneCompactLine() {
    BlockdevMirror mirror = new BlockdevMirror("mirror0", "disk0", "nbd-tgt",
        BlockdevMirror.Sync.FULL, BlockdevMirror.CopyMode.WRITE_BLOCKING, false);

    assertThat(new String(QmpCodec.encodeCommand(5, mirror.name(), mirror.arguments()),
        StandardCharsets.UTF_8)).isEqualTo("{\"execute\":\"blockdev-mirror\","
            + "\"arguments\":{\"job-id\":\"mirror0\",\"device\":\"disk0\",\"target\":\"nbd-tgt\","
            + "\"sync\":\"full\",\"copy-mode\":\"write-blocking\",\"auto-dismiss\":false},"
            + "\"id\":5}\n");
  }

  @Test
  void announceSelf_onTheWire_namesEveryTimingParameter() {
    var announce = new dev.ferry.qmp.migration.AnnounceSelf(50, 550, 5, 100);

    assertThat(new String(QmpCodec.encodeCommand(7, announce.name(), announce.arguments()), StandardCharsets.UTF_8))
        .isEqualTo("{\"execute\":\"announce-self\",\"arguments\":{\"initial\":50,\"max\":550,\"rounds\":5,"
            + "\"step\":100},\"id\":7}\n");
    assertThatThrownBy(() -> new dev.ferry.qmp.migration.AnnounceSelf(50, 10, 5, 100))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max 10");
  }

  @Test
  void xBlockdevChange_withBothOrNeitherOfChildAndNode_isRefused() {
    assertThatThrownBy(() -> new dev.ferry.qmp.colo.XBlockdevChange("q", "children.1", "n"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exactly one");
    assertThatThrownBy(() -> new dev.ferry.qmp.colo.XBlockdevChange("q", null, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exactly one");
  }

  @Test
  void blockdevAdd_withoutNodeName_isRefused() {
    assertThatThrownBy(() -> new BlockdevAdd(Map.of("driver", "qcow2")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("blockdev-add options need a 'node-name'");
  }

  @Test
  void blockdevAdd_nodeName_isTheRootNodeName() {
    assertThat(new BlockdevAdd(ordered("driver", "raw", "node-name", "tgt0")).nodeName())
        .isEqualTo("tgt0");
  }

  @Test
  void blockdevMirror_granularityNotAPowerOfTwo_isRefused() {
    BlockdevMirror mirror = new BlockdevMirror("m", "disk0", "tgt0", BlockdevMirror.Sync.FULL,
        BlockdevMirror.CopyMode.BACKGROUND, false);

    assertThatThrownBy(() -> mirror.withGranularity(65535))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("granularity must be a power of two >= 512: 65535");
  }

  @Test
  void blockdevMirror_bufSizeZero_isRefused() {
    BlockdevMirror mirror = new BlockdevMirror("m", "disk0", "tgt0", BlockdevMirror.Sync.FULL,
        BlockdevMirror.CopyMode.BACKGROUND, false);

    assertThatThrownBy(() -> mirror.withBufSize(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bufSize must be positive: 0");
  }

  @Test
  void bitmapCommand_blankName_isRefused() {
    assertThatThrownBy(() -> new BlockDirtyBitmapDisable("disk0", " "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bitmap must not be blank");
  }

  @Test
  void nbdServerStartInet_portOutOfRange_isRefused() {
    assertThatThrownBy(() -> NbdServerStart.tcp("::1", 70_000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port out of range: 70000");
  }

  @Test
  void migrateSetCapabilities_mapChangedLater_keepsItsCopy() {
    Map<String, Boolean> capabilities = new LinkedHashMap<>(Map.of("events", true));
    MigrateSetCapabilities command = new MigrateSetCapabilities(capabilities);

    capabilities.put("multifd", true);

    assertThat(command.capabilities()).containsOnlyKeys("events");
  }
}
