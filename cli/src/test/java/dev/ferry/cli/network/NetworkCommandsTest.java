package dev.ferry.cli.network;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.DiskView;
import dev.ferry.api.Json;
import dev.ferry.api.NetworkCreateRequest;
import dev.ferry.api.NetworkView;
import dev.ferry.api.NicView;
import dev.ferry.api.VmState;
import dev.ferry.api.VmView;
import dev.ferry.cli.CliRunner;
import dev.ferry.cli.FakeController;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class NetworkCommandsTest {

  private final FakeController fake = new FakeController();

  @AfterEach
  void stop() {
    fake.close();
  }

  @Test
  void networkCreate_sendsNameAndBridge_printsTheHostsThatHaveIt() throws Exception {
    fake.reply("POST /api/networks", 201, new NetworkView("lan", "vmbr0", List.of("host1", "host2")));

    var result = new CliRunner().against(fake, "network", "create", "lan", "--bridge", "vmbr0");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(Json.mapper().readValue(fake.requests().getFirst().body(), NetworkCreateRequest.class))
        .isEqualTo(new NetworkCreateRequest("lan", "vmbr0"));
    assertThat(result.out()).contains("created network lan on bridge vmbr0 (hosts with it: host1,host2)");
  }

  @Test
  void networkListAndShow_printBridgeAndHosts_jsonAsTheApiSendsIt() throws Exception {
    fake.reply("GET /api/networks", 200, List.of(new NetworkView("default", "fyb1234", List.of())));
    fake.reply("GET /api/networks/default", 200, new NetworkView("default", "fyb1234", List.of("host1")));

    var list = new CliRunner().against(fake, "network", "list");
    var show = new CliRunner().against(fake, "network", "show", "default", "--json");

    assertThat(list.out()).contains("NAME").contains("default").contains("fyb1234").contains("none");
    assertThat(Json.mapper().readTree(show.out()).get("hosts").get(0).asText()).isEqualTo("host1");
  }

  @Test
  void vmShow_listsNicsWithNetworkMacTapAndIp_ipAbsentFromJsonWhenUnknown() throws Exception {
    VmView vm = new VmView("web", "host1", VmState.RUNNING, 1, 1L << 30, 1L << 30, null, "pc-q35-7.2", "qemu64", "tcg",
        42L, List.<DiskView>of(), List.of(new NicView("default", "52:54:00:12:34:56", "fy0123456789n0", "10.0.0.5"),
            new NicView("lan", "52:54:00:12:34:57", "fy0123456789n1", null)));
    fake.reply("GET /api/vms/web", 200, vm);

    var text = new CliRunner().against(fake, "vm", "show", "web");
    var json = new CliRunner().against(fake, "vm", "show", "web", "--json");

    assertThat(text.out()).contains("nics:").contains("52:54:00:12:34:56").contains("fy0123456789n0").contains("10.0.0.5");
    var nics = Json.mapper().readTree(json.out()).get("nics");
    assertThat(nics.get(0).get("ip").asText()).isEqualTo("10.0.0.5");
    assertThat(nics.get(1).has("ip")).isFalse();
    assertThat(nics.get(1).get("tap").asText()).isEqualTo("fy0123456789n1");
  }
}
