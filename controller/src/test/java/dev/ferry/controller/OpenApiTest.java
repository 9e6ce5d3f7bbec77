package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OpenApiTest {

  @TempDir Path dir;
  TestCluster c;

  @BeforeEach
  void start() {
    c = new TestCluster(dir);
  }

  @AfterEach
  void stop() {
    c.close();
  }

  @Test
  void document_coversEveryRegisteredRoute() throws Exception {
    JsonNode doc = c.get("/api/openapi.json").json();
    List<String> routes = c.controller.routes();
    assertThat(routes).contains("POST /api/vms", "GET /api/events");
    for (String route : routes) {
      String[] parts = route.split(" ", 2);
      JsonNode path = doc.get("paths").get(parts[1]);
      assertThat(path).as("path of " + route).isNotNull();
      assertThat(path.get(parts[0].toLowerCase(Locale.ROOT))).as(route).isNotNull();
    }
  }

  @Test
  void document_isOpenApi31WithBearerSecurityAndProblemSchema() throws Exception {
    JsonNode doc = c.get("/api/openapi.json").json();
    assertThat(doc.get("openapi").asText()).isEqualTo("3.1.0");
    assertThat(doc.at("/components/securitySchemes/bearer/scheme").asText()).isEqualTo("bearer");
    assertThat(doc.at("/components/schemas/Problem/properties/field").isMissingNode()).isFalse();
    assertThat(doc.at("/components/schemas/VmCreateRequest/properties/memory_bytes").isMissingNode()).isFalse();
  }
}
