package dev.ferry.agent.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.agent.HttpTestClient;
import dev.ferry.agent.HttpTestClient.Reply;
import dev.ferry.agent.Subprocess;
import dev.ferry.agent.pool.PoolRoots;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.pool.Volumes;
import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.agent.qemu.QemuInstallation;
import dev.ferry.agent.qemu.QemuVersion;
import dev.ferry.agent.storage.StorageMoves;
import dev.ferry.agent.vm.QemuHost;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.Problem;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.api.agent.AgentPoolRequest;
import dev.ferry.api.agent.AgentRoute;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.VolumeCreateRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The guards of issue 10 at the HTTP edge: each refusal is a 4xx naming the field, the value and what is allowed. */
class GuardsApiTest {

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
    Path data = tmp.resolve("agent");
    Pools pools = Pools.load(data, "h1", new PoolRoots(List.of(tmp.resolve("pools")), data));
    Vms vms = Vms.load(data, "h1", pools, new QemuHost(qemu, Accelerator.TCG));
    var volumes = new Volumes(pools, qemu.imgBinary(), vms::inUse);
    api = AgentApi.start("127.0.0.1", 0, dev.ferry.api.auth.SecretFile.sha256(TOKEN), new AgentApi.Services(pools, volumes, vms,
        new StorageMoves(vms, pools, qemu.imgBinary()),
        () -> new AgentHeartbeat("h1", "http://x", 2, 1L << 30, "7.2.0", "tcg", pools.views(), vms.list())));
    client = new HttpTestClient("http://127.0.0.1:" + api.port(), TOKEN);
    poolDir = tmp.resolve("pools/local");
    assertThat(client.put("/agent/pools/local", new AgentPoolRequest(poolDir.toString(), false)).status()).isEqualTo(201);
  }

  @AfterEach
  void stop() {
    api.close();
  }

  @Test
  void pool_atFileSystemRoot_is400NamingPath() {
    Problem p = problem(client.put("/agent/pools/everything", new AgentPoolRequest("/", false)), 400);

    assertThat(p.field()).isEqualTo("path");
    assertThat(p.value()).isEqualTo("/");
    assertThat(p.allowed()).contains(tmp.resolve("pools").toString());
  }

  @Test
  void pool_outsideTheRoots_is400NamingTheRoots() {
    Problem p = problem(client.put("/agent/pools/etc", new AgentPoolRequest("/etc", false)), 400);

    assertThat(p.field()).isEqualTo("path");
    assertThat(p.value()).isEqualTo("/etc");
    assertThat(p.allowed()).contains("--pool-root");
  }

  @Test
  void vmDefine_imageBackedByAHostFile_is400NamingTheBackingFile() throws Exception {
    Path evil = poolDir.resolve("evil.qcow2");
    Subprocess.run(List.of("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", "/etc/hostname", evil.toString()),
        Duration.ofSeconds(30)).requireOk();

    Problem p = problem(client.put("/agent/vms/web", new AgentVmDefinition("web", 1, 64L << 20, null, null, null, null, null,
        List.of(new AgentDisk("disk0", evil.toString(), "qcow2")))), 400);

    assertThat(p.field()).isEqualTo("disks[0].path");
    assertThat(p.value()).isEqualTo(evil.toRealPath().toString());
    assertThat(p.allowed()).contains("backing file (layer 1) '/etc/hostname'");
    assertThat(client.get("/agent/vms/web").status()).as("nothing defined").isEqualTo(404);
  }

  @Test
  void vmDefine_appendTooLongOrWithControlCharacters_is400NamingAppend() throws Exception {
    Path kernel = Files.writeString(poolDir.resolve("vmlinuz"), "k");
    for (String bad : List.of("x".repeat(1025), "console=ttyS0\ninit=/bin/sh", "quiet\u001b[2J", "café")) {
      Problem p = problem(client.put("/agent/vms/web", new AgentVmDefinition("web", 1, 64L << 20, null, null,
          kernel.toString(), null, bad, List.of())), 400);
      assertThat(p.field()).as(bad).isEqualTo("append");
      assertThat(p.allowed()).as(bad).contains("at most 1024 printable ASCII characters");
      assertThat(p.value()).as(bad).doesNotContain("\n").doesNotContain("\u001b");
    }
    assertThat(client.put("/agent/vms/web", new AgentVmDefinition("web", 1, 64L << 20, null, null, kernel.toString(), null,
        "console=ttyS0 " + "x".repeat(1010), List.of())).status()).as("1024 characters").isEqualTo(201);
  }

  @Test
  void volume_largerThanThePoolsFreeSpace_is409NamingSizeBytes() {
    long huge = 1L << 60;

    Problem p = problem(client.post(AgentRoute.VOLUME_CREATE.path(), new VolumeCreateRequest("local", "big.qcow2", huge, "qcow2")),
        409);

    assertThat(p.field()).isEqualTo("size_bytes");
    assertThat(p.value()).isEqualTo(Long.toString(huge));
    assertThat(p.allowed()).contains("free space of pool local");
    assertThat(Files.exists(poolDir.resolve("big.qcow2"))).isFalse();
  }

  private static Problem problem(Reply r, int status) {
    assertThat(r.status()).as(r.body()).isEqualTo(status);
    assertThat(r.contentType()).startsWith(Problem.MEDIA_TYPE);
    return r.as(Problem.class);
  }
}
