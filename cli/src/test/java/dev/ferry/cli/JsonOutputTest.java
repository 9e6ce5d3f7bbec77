package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.ferry.api.HostState;
import dev.ferry.api.HostView;
import dev.ferry.api.Json;
import dev.ferry.api.PoolView;
import dev.ferry.api.VmView;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class JsonOutputTest {

  private final FakeController fake = new FakeController();

  @AfterEach
  void stop() {
    fake.close();
  }

  @Test
  void hostList_json_parsesBackIntoHostViews() throws Exception {
    List<HostView> hosts = List.of(Samples.host("host1", HostState.ONLINE), Samples.host("host2", HostState.UNREACHABLE));
    fake.reply("GET /api/hosts", 200, hosts);

    var result = new CliRunner().against(fake, "host", "list", "--json");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(Json.mapper().readValue(result.out(), new TypeReference<List<HostView>>() {})).isEqualTo(hosts);
  }

  @Test
  void vmList_json_parsesBackIntoVmViews() throws Exception {
    List<VmView> vms = List.of(Samples.vm("web"), Samples.vm("db"));
    fake.reply("GET /api/vms", 200, vms);

    var result = new CliRunner().against(fake, "vm", "list", "--json");

    assertThat(Json.mapper().readValue(result.out(), new TypeReference<List<VmView>>() {})).isEqualTo(vms);
  }

  @Test
  void vmShow_json_parsesBackIntoVmView() throws Exception {
    fake.reply("GET /api/vms/web", 200, Samples.vm("web"));

    var result = new CliRunner().against(fake, "vm", "show", "web", "--json");

    assertThat(Json.mapper().readValue(result.out(), VmView.class)).isEqualTo(Samples.vm("web"));
  }

  @Test
  void poolList_json_parsesBackIntoPoolViews() throws Exception {
    List<PoolView> pools = List.of(Samples.pool("shared", "host1"), Samples.pool("local", "host1"));
    fake.reply("GET /api/pools", 200, pools);

    var result = new CliRunner().against(fake, "pool", "list", "--json");

    assertThat(Json.mapper().readValue(result.out(), new TypeReference<List<PoolView>>() {})).isEqualTo(pools);
  }

  @Test
  void hostList_table_alignsColumnsWithFormattedSizes() {
    fake.reply("GET /api/hosts", 200, List.of(Samples.host("host1", HostState.ONLINE)));

    var result = new CliRunner().against(fake, "host", "list");

    List<String> lines = result.out().lines().toList();
    assertThat(lines.get(0)).startsWith("NAME   STATE   URL");
    assertThat(lines.get(1)).startsWith("host1  online  http://127.0.0.1:7001").contains("2 GiB/16 GiB", "14 GiB", "2/8");
  }

  @Test
  void vmShow_table_showsMemoryRequestedGivenAndWhy() {
    fake.reply("GET /api/vms/web", 200, Samples.vm("web"));

    var result = new CliRunner().against(fake, "vm", "show", "web");

    assertThat(result.out())
        .contains("memory:      1 GiB requested, 1050624 KiB given to qemu")
        .contains("memory why:  rounded up")
        .contains("machine:     pc-q35-9.2")
        .contains("accelerator: kvm")
        .contains("pid:         4242")
        .contains("disk0  shared  qcow2   10 GiB  /pools/shared/web-disk0.qcow2");
  }
}
