package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.PoolCreateRequest;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PoolTest {

  @TempDir Path dir;
  TestCluster c;
  FakeAgent host1;
  FakeAgent host2;

  @BeforeEach
  void start() throws Exception {
    c = new TestCluster(dir);
    host1 = c.agent("host1", 4L << 30);
    host2 = c.agent("host2", 4L << 30);
  }

  @AfterEach
  void stop() {
    c.close();
  }

  @Test
  void create_shared_registersOnEveryOnlineHost() throws Exception {
    TestCluster.Reply r = c.post("/api/pools", new PoolCreateRequest("shared", null, "/srv/shared", true));
    assertThat(r.status()).isEqualTo(201);
    assertThat(r.json()).hasSize(2);
    assertThat(host1.changes()).containsExactly("PUT /agent/pools/shared");
    assertThat(host2.changes()).containsExactly("PUT /agent/pools/shared");
    assertThat(c.get("/api/pools").json()).hasSize(2);
  }

  @Test
  void create_samePathAgain_isIdempotent() throws Exception {
    assertThat(c.post("/api/pools", new PoolCreateRequest("local", "host1", "/srv/local", false)).status()).isEqualTo(201);
    TestCluster.Reply again = c.post("/api/pools", new PoolCreateRequest("local", "host1", "/srv/local", false));
    assertThat(again.status()).isEqualTo(200);
    assertThat(host1.changes()).containsExactly("PUT /agent/pools/local");
  }

  @Test
  void create_otherPath_is409AndChangesNothing() throws Exception {
    c.post("/api/pools", new PoolCreateRequest("local", "host1", "/srv/local", false));
    TestCluster.Reply r = c.post("/api/pools", new PoolCreateRequest("local", "host1", "/srv/other", false));
    assertThat(r.status()).isEqualTo(409);
    assertThat(r.field()).isEqualTo("path");
    assertThat(c.get("/api/pools").json().get(0).get("path").asText()).isEqualTo("/srv/local");
  }

  @Test
  void create_unknownHost_is404() throws Exception {
    TestCluster.Reply r = c.post("/api/pools", new PoolCreateRequest("local", "host9", "/srv/local", false));
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.field()).isEqualTo("host");
  }

  @Test
  void create_relativePath_is400() throws Exception {
    TestCluster.Reply r = c.post("/api/pools", new PoolCreateRequest("local", "host1", "srv", false));
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.field()).isEqualTo("path");
  }
}
