package dev.ferry.qmp.object;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.nio.file.Path;
import java.util.Map;

/**
 * {@code object-add}: creates a QOM object. QEMU 7.2 takes the object's properties flat beside
 * {@code qom-type} and {@code id}. The objects Ferry makes are TLS credentials and authorization
 * lists for the migration and NBD streams ({@link #tlsCredsX509}, {@link #authzSimple}).
 *
 * @param qomType    e.g. {@code tls-creds-x509}
 * @param id         the object's id, referenced by {@code tls-creds} / {@code tls-authz} arguments
 * @param properties the type's members (dashed names), in order
 */
public record ObjectAdd(String qomType, String id, Map<String, Object> properties) implements QmpCommand<Void> {

  public ObjectAdd {
    ArgumentMap.requireName(qomType, "qom-type");
    ArgumentMap.requireName(id, "id");
    properties = ArgumentMap.orderedCopy(properties, "properties");
  }

  /** Which end of a TLS connection a credentials object serves. */
  public enum Endpoint {
    SERVER,
    CLIENT;

    String qapi() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * {@code tls-creds-x509} reading {@code ca-cert.pem}, {@code server-cert.pem}/{@code server-key.pem}
   * (server) or {@code client-cert.pem}/{@code client-key.pem} (client) from {@code dir}, checking
   * the peer's certificate against the CA ({@code verify-peer}). QEMU loads the files now and
   * refuses the object when they do not pass its sanity checks.
   */
  public static ObjectAdd tlsCredsX509(String id, Path dir, Endpoint endpoint) {
    return new ObjectAdd("tls-creds-x509", id, ArgumentMap.create()
        .with("dir", dir.toString())
        .with("endpoint", endpoint.qapi())
        .with("verify-peer", true)
        .build());
  }

  /**
   * {@code authz-list} allowing exactly these identities (format {@code exact}) and denying any
   * other; for x509 the peer certificates' distinguished names.
   */
  public static ObjectAdd authzList(String id, java.util.List<String> identities) {
    java.util.List<Map<String, Object>> rules = new java.util.ArrayList<>();
    for (String identity : identities) {
      rules.add(ArgumentMap.create().with("match", identity).with("policy", "allow").with("format", "exact").build());
    }
    return new ObjectAdd("authz-list", id, ArgumentMap.create().with("policy", "deny").with("rules", rules).build());
  }

  /** {@code authz-simple}: allows exactly one identity, for x509 the peer certificate's distinguished name. */
  public static ObjectAdd authzSimple(String id, String identity) {
    return new ObjectAdd("authz-simple", id, ArgumentMap.create().with("identity", identity).build());
  }

  @Override
  public String name() {
    return "object-add";
  }

  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create()
        .with("qom-type", qomType)
        .with("id", id)
        .withAll(properties)
        .build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
