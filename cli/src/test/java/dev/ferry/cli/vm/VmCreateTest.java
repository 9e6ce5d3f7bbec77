package dev.ferry.cli.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.DiskRequest;
import dev.ferry.api.Json;
import dev.ferry.api.Problem;
import dev.ferry.api.VmCreateRequest;
import dev.ferry.cli.CliRunner;
import dev.ferry.cli.FakeController;
import dev.ferry.cli.Samples;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmCreateTest {

  private final FakeController fake = new FakeController();
  @TempDir Path cwd;

  @AfterEach
  void stop() {
    fake.close();
  }

  private VmCreateRequest sent() throws Exception {
    assertThat(fake.requests()).hasSize(1);
    FakeController.Request r = fake.requests().getFirst();
    assertThat(r.method() + " " + r.path()).isEqualTo("POST /api/vms");
    return Json.mapper().readValue(r.body(), VmCreateRequest.class);
  }

  @Test
  void vmCreate_kernelBootWithDisks_sendsSizesAbsolutePathsAndPools() throws Exception {
    fake.reply("POST /api/vms", 201, Samples.vm("web"));

    var result = new CliRunner().cwd(cwd).against(fake, "vm", "create", "web", "--host", "host1", "--memory", "1G",
        "--cpus", "2", "--kernel", "boot/vmlinuz", "--initrd", "boot/initrd.img", "--append", "console=ttyS0",
        "--disk", "10G", "--disk", "512M@shared", "--format", "raw");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(sent()).isEqualTo(new VmCreateRequest("web", "host1", 1L << 30, 2,
        cwd.resolve("boot/vmlinuz").toString(), cwd.resolve("boot/initrd.img").toString(), "console=ttyS0", null,
        java.util.List.of(new DiskRequest(10L << 30, null, "raw"), new DiskRequest(512L << 20, "shared", "raw")), true));
    assertThat(result.out()).contains("created vm web on host1");
  }

  @Test
  void vmCreate_nics_sendsEachNetworkWithItsMacWhenGiven() throws Exception {
    fake.reply("POST /api/vms", 201, Samples.vm("web"));

    var result = new CliRunner().cwd(cwd).against(fake, "vm", "create", "web", "--host", "host1", "--memory", "1G",
        "--image", "/abs/disk.qcow2", "--nic", "default", "--nic", "lan,mac=52:54:00:12:34:56");

    assertThat(result.exit()).as(result.err()).isZero();
    assertThat(sent().nics()).containsExactly(new dev.ferry.api.NicRequest("default", null),
        new dev.ferry.api.NicRequest("lan", "52:54:00:12:34:56"));
  }

  @Test
  void vmCreate_nicWithAnUnknownKey_isAUsageErrorAndSendsNothing() {
    var result = new CliRunner().cwd(cwd).against(fake, "vm", "create", "web", "--host", "host1", "--memory", "1G",
        "--image", "/abs/disk.qcow2", "--nic", "default,model=e1000");

    assertThat(result.exit()).isEqualTo(2);
    assertThat(result.err()).contains("--nic").contains("NETWORK,mac=MAC");
    assertThat(fake.requests()).isEmpty();
  }

  @Test
  void vmCreate_imageAndNoStart_sendsImageWithoutKernel() throws Exception {
    fake.reply("POST /api/vms", 201, Samples.vm("db"));

    var result = new CliRunner().cwd(cwd).against(fake, "vm", "create", "db", "--host", "host2", "--memory", "512M",
        "--image", "/abs/disk.qcow2", "--no-start");

    assertThat(result.exit()).as(result.err()).isZero();
    VmCreateRequest req = sent();
    assertThat(req.image()).isEqualTo("/abs/disk.qcow2");
    assertThat(req.kernel()).isNull();
    assertThat(req.cpus()).isNull();
    assertThat(req.start()).isFalse();
    assertThat(req.disks()).isEmpty();
  }

  @Test
  void vmCreate_kernelAndImage_exitsTwoAndSendsNothing() {
    var result = new CliRunner().cwd(cwd).against(fake, "vm", "create", "web", "--host", "host1", "--memory", "1G",
        "--kernel", "k", "--initrd", "i", "--image", "disk.qcow2");

    assertThat(result.exit()).isEqualTo(2);
    assertThat(result.err()).startsWith("ferry: ").contains("mutually exclusive");
    assertThat(fake.requests()).isEmpty();
  }

  @Test
  void vmCreate_noBootSource_exitsTwoAndSendsNothing() {
    var result = new CliRunner().cwd(cwd).against(fake, "vm", "create", "web", "--host", "host1", "--memory", "1G");

    assertThat(result.exit()).isEqualTo(2);
    assertThat(fake.requests()).isEmpty();
  }

  @Test
  void vmCreate_kernelWithoutInitrd_exitsTwo() {
    var result = new CliRunner().cwd(cwd).against(fake, "vm", "create", "web", "--host", "host1", "--memory", "1G",
        "--kernel", "k");

    assertThat(result.exit()).isEqualTo(2);
    assertThat(result.err()).contains("--initrd");
    assertThat(fake.requests()).isEmpty();
  }

  @Test
  void vmCreate_badMemory_exitsTwoNamingValueAndSendsNothing() {
    var result = new CliRunner().cwd(cwd).against(fake, "vm", "create", "web", "--host", "host1", "--memory", "lots",
        "--image", "d.qcow2");

    assertThat(result.exit()).isEqualTo(2);
    assertThat(result.err()).contains("--memory").contains("'lots'").contains("512M");
    assertThat(fake.requests()).isEmpty();
  }

  @Test
  void vmCreate_badDiskFormat_exitsTwo() {
    var result = new CliRunner().cwd(cwd).against(fake, "vm", "create", "web", "--host", "host1", "--memory", "1G",
        "--image", "d.qcow2", "--format", "vmdk");

    assertThat(result.exit()).isEqualTo(2);
    assertThat(result.err()).contains("qcow2 or raw");
    assertThat(fake.requests()).isEmpty();
  }

  @Test
  void vmCreate_badInputProblem_exitsOneWithOneLineNamingFieldAndValue() {
    fake.reply("POST /api/vms", 400, Problem.badInput("name", "Web_1", "1-63 characters: lower-case letters"));

    var result = new CliRunner().cwd(cwd).against(fake, "vm", "create", "Web_1", "--host", "host1", "--memory", "1G",
        "--image", "d.qcow2");

    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.err()).isEqualTo("ferry: name 'Web_1' is not valid: 1-63 characters: lower-case letters"
        + System.lineSeparator());
  }

  @Test
  void vmCreate_problemWithoutFieldInDetail_appendsFieldValueAllowed() {
    fake.reply("POST /api/vms", 400,
        new Problem("about:blank", "invalid input", 400, "bad memory", "memory_bytes", "1", "at least 64 MiB"));

    var result = new CliRunner().cwd(cwd).against(fake, "vm", "create", "w", "--host", "host1", "--memory", "1",
        "--image", "d.qcow2");

    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.err()).contains("field 'memory_bytes'").contains("value '1'").contains("allowed: at least 64 MiB");
  }
}
