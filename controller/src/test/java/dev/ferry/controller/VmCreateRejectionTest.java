package dev.ferry.controller;

import static dev.ferry.controller.TestCluster.GIB;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.DiskRequest;
import dev.ferry.api.VmCreateRequest;
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

/** Every bad request gets a clear 4xx problem naming the field, and nothing changes anywhere. */
class VmCreateRejectionTest {

  static final String KERNEL = "/pools/host1/local/vmlinuz";

  @TempDir Path dir;
  TestCluster c;
  FakeAgent host1;

  @BeforeEach
  void start() throws Exception {
    c = new TestCluster(dir);
    host1 = c.hostWithLocalPool("host1");
  }

  @AfterEach
  void stop() throws Exception {
    assertThat(c.vmCount()).isZero();
    assertThat(host1.changes()).isEmpty();
    c.close();
  }

  static VmCreateRequest vm(String name, String host, long memory, Integer cpus, List<DiskRequest> disks) {
    return new VmCreateRequest(name, host, memory, cpus, KERNEL, null, null, null, disks, true);
  }

  static Stream<Arguments> badRequests() {
    return Stream.of(
        Arguments.of("invalid name", vm("Web_1", "host1", GIB, 1, List.of()), 400, "name"),
        Arguments.of("unknown host", vm("web", "host9", GIB, 1, List.of()), 404, "host"),
        Arguments.of("memory above free", vm("web", "host1", 9 * GIB, 1, List.of()), 409, "memory_bytes"),
        Arguments.of("zero memory", vm("web", "host1", 0, 1, List.of()), 400, "memory_bytes"),
        Arguments.of("too many cpus", vm("web", "host1", GIB, 65, List.of()), 400, "cpus"),
        Arguments.of("unknown pool", vm("web", "host1", GIB, 1, List.of(new DiskRequest(GIB, "fast", null))), 404,
            "disks[0].pool"),
        Arguments.of("bad format", vm("web", "host1", GIB, 1,
            List.of(new DiskRequest(GIB, null, null), new DiskRequest(GIB, null, "vmdk"))), 400, "disks[1].format"),
        Arguments.of("relative kernel", new VmCreateRequest("web", "host1", GIB, 1, "vmlinuz", null, null, null,
            List.of(), true), 400, "kernel"),
        Arguments.of("no boot source", new VmCreateRequest("web", "host1", GIB, 1, null, null, null, null,
            List.of(), true), 400, "kernel"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badRequests")
  void create_badInput_isProblemNamingFieldAndChangesNothing(String why, VmCreateRequest req, int status,
      String field) throws Exception {
    TestCluster.Reply r = c.post("/api/vms", req);
    assertThat(r.status()).as(r.body()).isEqualTo(status);
    assertThat(r.contentType()).startsWith("application/problem+json");
    assertThat(r.field()).isEqualTo(field);
    assertThat(r.json().get("detail").asText()).isNotBlank().doesNotContain("Exception").doesNotContain("\tat ");
  }

  @Test
  void create_unknownHost_listsKnownHosts() throws Exception {
    TestCluster.Reply r = c.post("/api/vms", vm("web", "host9", GIB, 1, List.of()));
    assertThat(r.json().get("detail").asText()).isEqualTo("host 'host9' is not known (known: host1)");
  }

  @Test
  void create_memoryAboveFree_saysTheNumbers() throws Exception {
    TestCluster.Reply r = c.post("/api/vms", vm("web", "host1", 9 * GIB, 1, List.of()));
    assertThat(r.json().get("detail").asText()).contains(String.valueOf(9 * GIB)).contains(String.valueOf(8 * GIB))
        .contains("host 'host1'");
  }

  @Test
  void create_unreachableHost_is409() throws Exception {
    c.close();
    c = new TestCluster(dir, java.time.Duration.ofMillis(300));
    c.awaitHostState("host1", "unreachable", java.time.Duration.ofSeconds(3));
    TestCluster.Reply r = c.post("/api/vms", vm("web", "host1", GIB, 1, List.of()));
    assertThat(r.status()).isEqualTo(409);
    assertThat(r.field()).isEqualTo("host");
    assertThat(r.json().get("detail").asText()).contains("unreachable");
  }

  @Test
  void create_malformedJson_is400() throws Exception {
    TestCluster.Reply r = c.postRaw("/api/vms", "{\"name\": \"web\", ");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.contentType()).startsWith("application/problem+json");
    assertThat(r.json().get("detail").asText()).startsWith("malformed JSON");
  }

  @Test
  void create_unknownField_is400NamingIt() throws Exception {
    TestCluster.Reply r = c.postRaw("/api/vms",
        "{\"name\":\"web\",\"host\":\"host1\",\"memory_bytes\":1073741824,\"kernel\":\"" + KERNEL + "\",\"colour\":\"red\"}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.field()).isEqualTo("colour");
    assertThat(r.json().get("allowed").asText()).contains("memory_bytes");
  }

  @Test
  void create_wrongType_is400NamingNestedField() throws Exception {
    TestCluster.Reply r = c.postRaw("/api/vms", "{\"name\":\"web\",\"host\":\"host1\",\"memory_bytes\":1073741824,"
        + "\"kernel\":\"" + KERNEL + "\",\"disks\":[{\"size_bytes\":\"big\"}]}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.field()).isEqualTo("disks[0].size_bytes");
  }

  @Test
  void create_bodyOverLimit_is413() throws Exception {
    String big = "{\"name\":\"web\",\"append\":\"" + "x".repeat(ApiPaths.MAX_BODY_BYTES) + "\"}";
    TestCluster.Reply r = c.postRaw("/api/vms", big);
    assertThat(r.status()).isEqualTo(413);
    assertThat(r.contentType()).startsWith("application/problem+json");
  }

  @Test
  void create_emptyBody_is400() throws Exception {
    TestCluster.Reply r = c.postRaw("/api/vms", "");
    assertThat(r.status()).isEqualTo(400);
  }
}
