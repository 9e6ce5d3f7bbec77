package dev.ferry.controller.rest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.Json;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The hand-written {@code openapi.json} cannot drift from the records the controller serves:
 * every record and enum of {@code dev.ferry.api} has a schema of its name with exactly the fields
 * (or values) Jackson writes, and every schema named after a record of {@code dev.ferry.api} or
 * {@code dev.ferry.api.agent} lists exactly that record's fields. Regression: the document once
 * lacked {@code postcopy_recoveries} and {@code escalations} of MigrationView and listed a
 * {@code memory_free_bytes} HostView never sent.
 */
class OpenApiDriftTest {

  private static final List<String> PACKAGES = List.of("dev.ferry.api", "dev.ferry.api.agent", "dev.ferry.api.auth");

  private final JsonNode schemas = document().get("components").get("schemas");

  @Test
  void everyUserFacingRecord_hasASchemaWithExactlyItsFields() throws Exception {
    List<Class<?>> records = classesOf("dev.ferry.api").stream().filter(Class::isRecord).toList();
    assertThat(records).extracting(Class::getSimpleName).contains("MigrationView", "HostView", "VmView", "PoolView");
    for (Class<?> type : records) {
      assertThat(schemas.has(type.getSimpleName())).as("openapi.json has a schema for " + type.getSimpleName()).isTrue();
      assertThat(schemaFields(type.getSimpleName())).as("fields of " + type.getSimpleName() + " in openapi.json")
          .isEqualTo(jsonFields(type));
    }
  }

  @Test
  void everySchemaNamedAfterARecord_listsExactlyItsFields() throws Exception {
    for (Iterator<String> names = schemas.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      Class<?> type = find(name);
      if (type == null || !type.isRecord()) continue;
      assertThat(schemaFields(name)).as("fields of " + name + " in openapi.json").isEqualTo(jsonFields(type));
    }
  }

  @Test
  void everyEnumSchema_listsExactlyTheEnumsValues() throws Exception {
    for (Class<?> type : classesOf("dev.ferry.api")) {
      if (!type.isEnum()) continue;
      JsonNode schema = schemas.get(type.getSimpleName());
      assertThat(schema).as("openapi.json has a schema for " + type.getSimpleName()).isNotNull();
      List<String> listed = new ArrayList<>();
      schema.get("enum").forEach(v -> listed.add(v.asText()));
      List<String> sent = new ArrayList<>();
      for (Object v : type.getEnumConstants()) sent.add(Json.mapper().valueToTree(v).asText());
      assertThat(listed).as("values of " + type.getSimpleName()).isEqualTo(sent);
    }
  }

  private Set<String> schemaFields(String name) {
    Set<String> out = new TreeSet<>();
    JsonNode props = schemas.get(name).get("properties");
    if (props != null) props.fieldNames().forEachRemaining(out::add);
    return out;
  }

  /** The fields Jackson writes for {@code type}, in the API's naming. */
  private static Set<String> jsonFields(Class<?> type) {
    var description = Json.mapper().getSerializationConfig().introspect(Json.mapper().constructType(type));
    Set<String> out = new TreeSet<>();
    for (BeanPropertyDefinition p : description.findProperties()) {
      if (p.couldSerialize()) out.add(p.getName());
    }
    return out;
  }

  private static Class<?> find(String simpleName) {
    for (String pkg : PACKAGES) {
      try {
        return Class.forName(pkg + "." + simpleName);
      } catch (ClassNotFoundException e) {
        // not in this package
      }
    }
    return null;
  }

  /** The top-level classes of one package of the api module, read from where ApiPaths was loaded. */
  private static List<Class<?>> classesOf(String pkg) throws IOException, URISyntaxException, ClassNotFoundException {
    Path root = Path.of(ApiPaths.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<Class<?>> out = new ArrayList<>();
    if (Files.isDirectory(root)) {
      try (Stream<Path> files = Files.list(root.resolve(pkg.replace('.', '/')))) {
        for (Path f : files.sorted().toList()) {
          String file = f.getFileName().toString();
          if (file.endsWith(".class") && !file.contains("$")) out.add(Class.forName(pkg + "." + file.replace(".class", "")));
        }
      }
    } else {
      try (var jar = new java.util.jar.JarFile(root.toFile())) {
        String dir = pkg.replace('.', '/') + "/";
        for (var e : java.util.Collections.list(jar.entries())) {
          String n = e.getName();
          if (n.startsWith(dir) && n.endsWith(".class") && !n.contains("$") && n.indexOf('/', dir.length()) < 0) {
            out.add(Class.forName(n.replace('/', '.').replace(".class", "")));
          }
        }
      }
    }
    return out;
  }

  private static JsonNode document() {
    try {
      return Json.mapper().readTree(OpenApi.document());
    } catch (IOException e) {
      throw new AssertionError("openapi.json is not JSON", e);
    }
  }
}
