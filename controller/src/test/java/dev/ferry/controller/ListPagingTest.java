package dev.ferry.controller;

import static dev.ferry.controller.TestCluster.GIB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.VmCreateRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /api/vms} and {@code GET /api/migrations}: limit, after, filters and the Link to the next page. */
class ListPagingTest {

  @TempDir Path dir;
  TestCluster c;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    c = new TestCluster(dir);
    c.hostWithLocalPool("host1");
    c.hostWithLocalPool("host2");
    for (int i = 0; i < 5; i++) {
      String host = i % 2 == 0 ? "host1" : "host2";
      var r = c.post("/api/vms", new VmCreateRequest("vm" + i, host, GIB / 4, 1, "/pools/" + host + "/local/vmlinuz",
          null, null, null, List.of(), i != 3));
      assertThat(r.status()).as(r.body()).isEqualTo(201);
    }
  }

  @AfterEach
  void stop() {
    c.close();
  }

  HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(c.controller.url() + path))
        .header("Authorization", "Bearer " + c.controller.token()).build(), HttpResponse.BodyHandlers.ofString());
  }

  static List<String> names(HttpResponse<String> r) throws Exception {
    List<String> out = new ArrayList<>();
    for (JsonNode n : dev.ferry.api.Json.mapper().readTree(r.body())) out.add(n.get("name").asText());
    return out;
  }

  @Test
  void vms_withoutParameters_listsAllAsBeforeWithoutLink() throws Exception {
    HttpResponse<String> r = get("/api/vms");
    assertThat(names(r)).containsExactly("vm0", "vm1", "vm2", "vm3", "vm4");
    assertThat(r.headers().firstValue("Link")).isEmpty();
  }

  @Test
  void vms_limitAndAfter_pageByNameAndLinkToTheNextPage() throws Exception {
    HttpResponse<String> first = get("/api/vms?limit=2&host=host1");
    assertThat(names(first)).containsExactly("vm0", "vm2");
    assertThat(first.headers().firstValue("Link")).contains("</api/vms?limit=2&after=vm2&host=host1>; rel=\"next\"");

    HttpResponse<String> second = get("/api/vms?limit=2&after=vm2&host=host1");
    assertThat(names(second)).containsExactly("vm4");
    assertThat(second.headers().firstValue("Link")).isEmpty();
  }

  @Test
  void vms_stateFilter_usesTheShownState() throws Exception {
    assertThat(names(get("/api/vms?state=stopped"))).containsExactly("vm3");
    assertThat(names(get("/api/vms?state=running"))).containsExactly("vm0", "vm1", "vm2", "vm4");
    assertThat(names(get("/api/vms?state=unknown"))).isEmpty();
  }

  @Test
  void lists_badParameters_are400NamingTheField() throws Exception {
    for (String q : List.of("/api/vms?limit=0", "/api/vms?limit=1001", "/api/vms?limit=ten", "/api/vms?state=sleepy",
        "/api/migrations?limit=0", "/api/migrations?status=done", "/api/migrations?after=nope")) {
      HttpResponse<String> r = get(q);
      assertThat(r.statusCode()).as(q).isEqualTo(400);
      String field = q.substring(q.indexOf('?') + 1, q.indexOf('='));
      assertThat(dev.ferry.api.Json.mapper().readTree(r.body()).get("field").asText()).as(q).isEqualTo(field);
    }
  }

  @Test
  void migrations_withoutAny_isAnEmptyList() throws Exception {
    HttpResponse<String> r = get("/api/migrations?limit=5&host=host1&status=running");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("[]");
  }
}
