package dev.ferry.controller;

import static dev.ferry.controller.TestCluster.GIB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.Macs;
import dev.ferry.api.NetworkCreateRequest;
import dev.ferry.api.NicRequest;
import dev.ferry.api.PoolCreateRequest;
import dev.ferry.api.TapNames;
import dev.ferry.api.VmCreateRequest;
import dev.ferry.api.agent.AgentNic;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Networks and the NICs of VMs on them: create, show, MAC assignment, and every refusal naming its field. */
class NetworkTest {

  static final String KERNEL = "/pools/shared/vmlinuz";

  @TempDir Path dir;
  TestCluster c;
  FakeAgent host1;
  FakeAgent host2;

  @BeforeEach
  void start() throws Exception {
    c = new TestCluster(dir);
    host1 = c.hostWithLocalPool("host1");
    host2 = c.hostWithLocalPool("host2");
    assertThat(c.post("/api/pools", new PoolCreateRequest("shared", null, "/pools/shared", true)).status()).isEqualTo(201);
    host1.calls.clear();
    host2.calls.clear();
  }

  @AfterEach
  void stop() {
    c.close();
  }

  static VmCreateRequest vm(String name, NicRequest... nics) {
    return new VmCreateRequest(name, "host1", GIB, 1, KERNEL, null, null, null,
        List.of(new dev.ferry.api.DiskRequest(GIB, "shared", null)), true, List.of(nics));
  }

  @Test
  void create_listAndShow_nameTheBridgeAndTheHostsThatHaveIt() throws Exception {
    host2.bridges.clear();
    host2.heartbeat(c.controller.url());

    TestCluster.Reply r = c.post("/api/networks", new NetworkCreateRequest("lan", "vmbr0"));

    assertThat(r.status()).isEqualTo(201);
    assertThat(r.json().get("bridge").asText()).isEqualTo("vmbr0");
    assertThat(r.json().get("hosts")).extracting(JsonNode::asText).containsExactly("host1");
    assertThat(c.get("/api/networks").json()).extracting(n -> n.get("name").asText()).containsExactly("lan");
    assertThat(c.get("/api/networks/lan").json().get("bridge").asText()).isEqualTo("vmbr0");
    assertThat(c.get("/api/networks/wan").status()).isEqualTo(404);
  }

  @Test
  void create_again_sameBridgeIsANoOp_otherBridgeIs409() throws Exception {
    c.post("/api/networks", new NetworkCreateRequest("lan", "vmbr0"));

    assertThat(c.post("/api/networks", new NetworkCreateRequest("lan", "vmbr0")).status()).isEqualTo(200);
    TestCluster.Reply other = c.post("/api/networks", new NetworkCreateRequest("lan", "vmbr1"));
    assertThat(other.status()).isEqualTo(409);
    assertThat(other.field()).isEqualTo("bridge");
    assertThat(c.get("/api/networks/lan").json().get("bridge").asText()).isEqualTo("vmbr0");
  }

  @Test
  void create_badBridgeOrName_is400NamingTheField() throws Exception {
    TestCluster.Reply bridge = c.post("/api/networks", new NetworkCreateRequest("lan", "a-bridge-name-too-long"));
    TestCluster.Reply name = c.post("/api/networks", new NetworkCreateRequest("Lan", "vmbr0"));

    assertThat(bridge.status()).isEqualTo(400);
    assertThat(bridge.field()).isEqualTo("bridge");
    assertThat(name.status()).isEqualTo(400);
    assertThat(name.field()).isEqualTo("name");
    assertThat(c.get("/api/networks").json()).isEmpty();
  }

  @Test
  void vmCreate_nicWithoutMac_getsAStoredLocallyAdministeredUnicastMacAndATap() throws Exception {
    c.post("/api/networks", new NetworkCreateRequest("lan", "vmbr0"));

    TestCluster.Reply r = c.post("/api/vms", vm("web", new NicRequest("lan", null), new NicRequest("lan", null)));

    assertThat(r.status()).isEqualTo(201);
    JsonNode nics = r.json().get("nics");
    assertThat(nics).hasSize(2);
    String mac = nics.get(0).get("mac").asText();
    assertThat(Macs.valid(mac)).isTrue();
    assertThat(Integer.parseInt(mac.substring(0, 2), 16) & 0x03).as("locally administered, unicast").isEqualTo(0x02);
    assertThat(nics.get(1).get("mac").asText()).isNotEqualTo(mac);
    assertThat(nics.get(0).get("tap").asText()).isEqualTo(TapNames.of("host1", "web", 0, mac)).hasSizeLessThanOrEqualTo(15);
    assertThat(nics.get(0).has("ip")).as("no lease known").isFalse();
    assertThat(c.get("/api/vms/web").json().get("nics").get(0).get("mac").asText()).isEqualTo(mac);
    assertThat(host1.definitions.get("web").nics()).extracting(AgentNic::bridge, AgentNic::mac)
        .first().isEqualTo(org.assertj.core.groups.Tuple.tuple("vmbr0", mac));
  }

  @Test
  void vmCreate_givenMac_isKeptInCanonicalForm() throws Exception {
    c.post("/api/networks", new NetworkCreateRequest("lan", "vmbr0"));

    TestCluster.Reply r = c.post("/api/vms", vm("web", new NicRequest("lan", "02:AA:bb:00:00:01")));

    assertThat(r.status()).isEqualTo(201);
    assertThat(r.json().get("nics").get(0).get("mac").asText()).isEqualTo("02:aa:bb:00:00:01");
  }

  static Stream<Arguments> badNics() {
    return Stream.of(
        Arguments.of("unknown network", new NicRequest("wan", null), 404, "nics[0].network"),
        Arguments.of("malformed mac", new NicRequest("lan", "02:aa:bb:00:00"), 400, "nics[0].mac"),
        Arguments.of("not hex", new NicRequest("lan", "02:aa:bb:00:00:zz"), 400, "nics[0].mac"),
        Arguments.of("multicast mac", new NicRequest("lan", "01:00:5e:00:00:01"), 400, "nics[0].mac"),
        Arguments.of("broadcast mac", new NicRequest("lan", "ff:ff:ff:ff:ff:ff"), 400, "nics[0].mac"),
        Arguments.of("taken mac", new NicRequest("lan", "02:00:00:00:00:01"), 409, "nics[0].mac"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badNics")
  void vmCreate_badNic_isRefusedNamingTheFieldAndChangesNothing(String what, NicRequest nic, int status, String field)
      throws Exception {
    c.post("/api/networks", new NetworkCreateRequest("lan", "vmbr0"));
    assertThat(c.post("/api/vms", vm("db", new NicRequest("lan", "02:00:00:00:00:01"))).status()).isEqualTo(201);
    host1.calls.clear();

    TestCluster.Reply r = c.post("/api/vms", vm("web", nic));

    assertThat(r.status()).as(r.body()).isEqualTo(status);
    assertThat(r.field()).isEqualTo(field);
    assertThat(host1.changes()).isEmpty();
    assertThat(c.vmCount()).isEqualTo(1);
  }

  @Test
  void vmCreate_sameMacTwiceInOneRequest_is400() throws Exception {
    c.post("/api/networks", new NetworkCreateRequest("lan", "vmbr0"));

    TestCluster.Reply r = c.post("/api/vms", vm("web", new NicRequest("lan", "02:00:00:00:00:01"),
        new NicRequest("lan", "02:00:00:00:00:01")));

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.field()).isEqualTo("nics[1].mac");
    assertThat(c.vmCount()).isZero();
  }

  @Test
  void vmCreate_hostWithoutTheBridge_is409() throws Exception {
    c.post("/api/networks", new NetworkCreateRequest("lan", "vmbr0"));
    host1.bridges.clear();
    host1.heartbeat(c.controller.url());
    host1.calls.clear();

    TestCluster.Reply r = c.post("/api/vms", vm("web", new NicRequest("lan", null)));

    assertThat(r.status()).isEqualTo(409);
    assertThat(r.field()).isEqualTo("nics[0].network");
    assertThat(host1.changes()).isEmpty();
  }

  @Test
  void liveMigration_targetWithoutTheNetwork_is409NamingNetworkAndHost() throws Exception {
    c.post("/api/networks", new NetworkCreateRequest("lan", "vmbr0"));
    assertThat(c.post("/api/vms", vm("web", new NicRequest("lan", null))).status()).isEqualTo(201);
    host2.bridges.clear();
    host2.heartbeat(c.controller.url());
    host1.calls.clear();
    host2.calls.clear();

    TestCluster.Reply r = c.post("/api/migrations/live", new LiveMigrationRequest("web", "host2", null, null, null, null,
        null, null, null, null, null));

    assertThat(r.status()).as(r.body()).isEqualTo(409);
    assertThat(r.body()).contains("lan").contains("host2");
    assertThat(host1.changes()).isEmpty();
    assertThat(host2.changes()).isEmpty();
    assertThat(c.get("/api/migrations").json()).isEmpty();
  }
}
