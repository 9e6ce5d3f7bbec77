package dev.ferry.agent.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.agent.HttpTestClient;
import dev.ferry.agent.HttpTestClient.Reply;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.pool.Volumes;
import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.agent.qemu.QemuInstallation;
import dev.ferry.agent.qemu.QemuVersion;
import dev.ferry.agent.storage.StorageMoves;
import dev.ferry.agent.vm.QemuHost;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.api.agent.AgentPoolRequest;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.agent.AgentRoute;
import dev.ferry.api.Problem;
import dev.ferry.api.agent.VolumeCreateRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import dev.ferry.api.auth.SecretFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP edge without QEMU: auth, limits, errors, pools, volumes, and VM definitions refused. */
class AgentApiTest {

  static final String TOKEN = "0123456789abcdef";

  @TempDir Path tmp;
  AgentApi api;
  HttpTestClient client;
  Path poolDir;

  @BeforeEach
  void start() {
    var qemu = new QemuInstallation(Path.of("/bin/false"), Path.of("/usr/bin/qemu-img"), new QemuVersion(7, 2, 0),
        List.of("q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)",
            "pc-q35-7.2           Standard PC (Q35 + ICH9, 2009)"));
    Pools pools = Pools.load(tmp, "h1");
    Vms vms = Vms.load(tmp, "h1", pools, new QemuHost(qemu, Accelerator.TCG));
    var volumes = new Volumes(pools, qemu.imgBinary(), vms::inUse);
    api = AgentApi.start("127.0.0.1", 0, SecretFile.sha256(TOKEN), new AgentApi.Services(pools, volumes, vms,
        new StorageMoves(vms, pools, qemu.imgBinary()),
        () -> new AgentHeartbeat("h1", "http://x", 2, 1L << 30, "7.2.0", "tcg", pools.views(), vms.list())));
    client = new HttpTestClient("http://127.0.0.1:" + api.port(), TOKEN);
    poolDir = tmp.resolve("local");
  }

  @AfterEach
  void stop() {
    api.close();
  }

  @Test
  void anyEndpoint_withoutToken_is401Problem() {
    var anonymous = new HttpTestClient("http://127.0.0.1:" + api.port(), null);

    Reply r = anonymous.put("/agent/pools/local", new AgentPoolRequest(poolDir.toString(), false));

    assertThat(r.status()).isEqualTo(401);
    assertThat(r.contentType()).startsWith(Problem.MEDIA_TYPE);
    assertThat(Files.exists(poolDir)).as("nothing changes").isFalse();
  }

  @Test
  void anyEndpoint_wrongToken_is401() {
    var wrong = new HttpTestClient("http://127.0.0.1:" + api.port(), TOKEN + "0");

    assertThat(wrong.get(AgentRoute.HOST.path()).status()).isEqualTo(401);
    assertThat(wrong.get("/no/such/path").status()).isEqualTo(401);
  }

  /** Only the controller's credential opens the agent: the hash it holds is not itself a key. */
  @Test
  void anyEndpoint_theHashItselfAsToken_is401() {
    var hash = new HttpTestClient("http://127.0.0.1:" + api.port(), SecretFile.sha256(TOKEN));

    assertThat(hash.get(AgentRoute.HOST.path()).status()).isEqualTo(401);
  }

  @Test
  void host_withToken_answersHeartbeatShape() {
    Reply r = client.get(AgentRoute.HOST.path());

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.as(AgentHeartbeat.class).name()).isEqualTo("h1");
  }

  @Test
  void body_overLimit_is413() {
    Reply r = client.put("/agent/pools/local", "{\"path\":\"" + "x".repeat(ApiPaths.MAX_BODY_BYTES) + "\"}");

    assertThat(r.status()).isEqualTo(413);
    assertThat(r.as(Problem.class).status()).isEqualTo(413);
  }

  @Test
  void body_malformedJson_is400() {
    Reply r = client.put("/agent/pools/local", "{\"path\": ");

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.as(Problem.class).field()).isEqualTo("body");
    assertThat(r.body()).doesNotContain("at com.").doesNotContain("Exception");
  }

  @Test
  void body_unknownField_is400NamingIt() {
    Reply r = client.put("/agent/pools/local", "{\"path\":\"/tmp/x\",\"shared\":false,\"colour\":\"red\"}");

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.as(Problem.class).value()).isEqualTo("colour");
  }

  @Test
  void body_missingRequiredPrimitive_is400NamingIt() {
    Reply r = client.put("/agent/pools/local", "{\"path\":\"/tmp/x\"}");

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.as(Problem.class).field()).isEqualTo("shared");
  }

  @Test
  void unknownEndpoint_is404Problem() {
    Reply r = client.get("/agent/nothing");

    assertThat(r.status()).isEqualTo(404);
    assertThat(r.contentType()).startsWith(Problem.MEDIA_TYPE);
  }

  @Test
  void pool_putTwiceThenOtherPath_is201Then200Then409() {
    assertThat(client.put("/agent/pools/local", new AgentPoolRequest(poolDir.toString(), false)).status()).isEqualTo(201);
    assertThat(client.put("/agent/pools/local", new AgentPoolRequest(poolDir.toString(), false)).status()).isEqualTo(200);
    assertThat(client.put("/agent/pools/local", new AgentPoolRequest(tmp.resolve("other").toString(), false)).status())
        .isEqualTo(409);
    assertThat(client.get(AgentRoute.POOLS.path()).json()).hasSize(1);
  }

  @Test
  void volume_badNames_are400NamingName() {
    client.put("/agent/pools/local", new AgentPoolRequest(poolDir.toString(), false));

    for (String bad : List.of("../evil", "a/b", "Upper.qcow2", ".hidden", "", "-x")) {
      Reply r = client.post(AgentRoute.VOLUME_CREATE.path(), new VolumeCreateRequest("local", bad, 1 << 20, "qcow2"));
      assertThat(r.status()).as(bad).isEqualTo(400);
      assertThat(r.as(Problem.class).field()).as(bad).isEqualTo("name");
    }
  }

  @Test
  void volume_createTwiceThenDelete_is201Then409Then204Then404() {
    client.put("/agent/pools/local", new AgentPoolRequest(poolDir.toString(), false));
    var req = new VolumeCreateRequest("local", "web-disk0.qcow2", 1 << 20, "qcow2");

    assertThat(client.post(AgentRoute.VOLUME_CREATE.path(), req).status()).isEqualTo(201);
    assertThat(Files.exists(poolDir.resolve("web-disk0.qcow2"))).isTrue();
    assertThat(client.post(AgentRoute.VOLUME_CREATE.path(), req).status()).isEqualTo(409);
    assertThat(client.delete("/agent/volumes/local/web-disk0.qcow2").status()).isEqualTo(204);
    assertThat(client.delete("/agent/volumes/local/web-disk0.qcow2").status()).isEqualTo(404);
  }

  @Test
  void volume_unknownPool_is404() {
    assertThat(client.post(AgentRoute.VOLUME_CREATE.path(), new VolumeCreateRequest("nope", "a.qcow2", 1 << 20, null)).status())
        .isEqualTo(404);
  }

  @Test
  void vmDefine_kernelOutsidePools_is400NamingKernel() throws Exception {
    client.put("/agent/pools/local", new AgentPoolRequest(poolDir.toString(), false));
    Path outside = Files.writeString(tmp.resolve("vmlinuz"), "k");

    Reply r = client.put("/agent/vms/web", new AgentVmDefinition("web", 1, 128L << 20, "q35", null,
        outside.toString(), null, "", List.of()));

    assertThat(r.status()).isEqualTo(400);
    Problem p = r.as(Problem.class);
    assertThat(p.field()).isEqualTo("kernel");
    assertThat(p.value()).isEqualTo(outside.toString());
    assertThat(p.allowed()).contains("local");
  }

  @Test
  void vmDefine_insidePool_is201ThenRedefine200() throws Exception {
    client.put("/agent/pools/local", new AgentPoolRequest(poolDir.toString(), false));
    Path kernel = Files.writeString(poolDir.resolve("vmlinuz"), "k");
    var def = new AgentVmDefinition("web", 1, 128L << 20, "q35", null, kernel.toString(), null, "", List.of());

    Reply first = client.put("/agent/vms/web", def);
    Reply second = client.put("/agent/vms/web", def);

    assertThat(first.status()).isEqualTo(201);
    assertThat(first.json().get("machine_type").asText()).isEqualTo("pc-q35-7.2");
    assertThat(first.json().get("memory_given_bytes").asLong()).isEqualTo((128L << 20) - 8192);
    assertThat(first.json().get("state").asText()).isEqualTo("stopped");
    assertThat(second.status()).isEqualTo(200);
    assertThat(Files.exists(tmp.resolve("vms/web/vm.json"))).isTrue();
  }

  @Test
  void vm_unknownName_is404AndBadActionIs404() {
    assertThat(client.get("/agent/vms/ghost").status()).isEqualTo(404);
    assertThat(client.post("/agent/vms/ghost/start", null).status()).isEqualTo(404);
    assertThat(client.get("/agent/vms/ghost/console?tail=5").status()).isEqualTo(404);
  }

  @Test
  void vmDelete_stoppedVm_is204AndGone() throws Exception {
    client.put("/agent/pools/local", new AgentPoolRequest(poolDir.toString(), false));
    Path kernel = Files.writeString(poolDir.resolve("vmlinuz"), "k");
    client.put("/agent/vms/web", new AgentVmDefinition("web", 1, 64L << 20, null, null, kernel.toString(), null, null, null));

    assertThat(client.delete("/agent/vms/web?delete_disks=true").status()).isEqualTo(204);
    assertThat(client.get("/agent/vms/web").status()).isEqualTo(404);
    assertThat(Files.exists(tmp.resolve("vms/web"))).isFalse();
  }
}
