package dev.ferry.controller.store;

import dev.ferry.api.auth.Role;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/** The {@code tokens} and {@code host_credentials} tables: names, roles and SHA-256 hashes, never secrets. */
public final class CredentialStore {

  /** A user token's row. */
  public record TokenRow(String name, Role role, String sha256, Instant created) {}

  private final Jdbi jdbi;

  CredentialStore(Jdbi jdbi) {
    this.jdbi = jdbi;
  }

  /** Inserts the token; false when the name is taken. */
  public boolean addToken(TokenRow t) {
    return jdbi.inTransaction(h -> {
      if (h.createQuery("SELECT COUNT(*) FROM tokens WHERE name = :name").bind("name", t.name())
          .mapTo(Integer.class).one() > 0) {
        return false;
      }
      h.createUpdate("INSERT INTO tokens (name, role, sha256, created_ms) VALUES (:name, :role, :sha, :created)")
          .bind("name", t.name()).bind("role", t.role().text()).bind("sha", t.sha256())
          .bind("created", t.created().toEpochMilli()).execute();
      return true;
    });
  }

  public List<TokenRow> tokens() {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM tokens ORDER BY name")
        .map((rs, ctx) -> new TokenRow(rs.getString("name"), Role.valueOf(rs.getString("role").toUpperCase(Locale.ROOT)),
            rs.getString("sha256"), Instant.ofEpochMilli(rs.getLong("created_ms"))))
        .list());
  }

  public Optional<TokenRow> tokenByHash(String sha256) {
    return tokens().stream().filter(t -> t.sha256().equals(sha256)).findFirst();
  }

  public int tokenCount() {
    return jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM tokens").mapTo(Integer.class).one());
  }

  /** Deletes the token; false when there was none of that name. */
  public boolean removeToken(String name) {
    return jdbi.withHandle(h -> h.createUpdate("DELETE FROM tokens WHERE name = :name").bind("name", name).execute()) == 1;
  }

  /** Sets (or replaces) the host's credential hash. */
  public void setHostCredential(String host, String sha256, Instant created) {
    jdbi.useTransaction(h -> {
      h.createUpdate("DELETE FROM host_credentials WHERE host = :host").bind("host", host).execute();
      h.createUpdate("INSERT INTO host_credentials (host, sha256, created_ms) VALUES (:host, :sha, :created)")
          .bind("host", host).bind("sha", sha256).bind("created", created.toEpochMilli()).execute();
    });
  }

  /** host name → credential hash, for every enrolled host. */
  public java.util.Map<String, String> hostCredentials() {
    return jdbi.withHandle(h -> {
      var m = new java.util.HashMap<String, String>();
      h.createQuery("SELECT host, sha256 FROM host_credentials")
          .map((rs, ctx) -> java.util.Map.entry(rs.getString("host"), rs.getString("sha256")))
          .forEach(e -> m.put(e.getKey(), e.getValue()));
      return m;
    });
  }
}
