package dev.ferry.controller.store;

import dev.ferry.api.PoolView;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.StatementContext;

/** The {@code pools} table: one row per (pool, host); rows are the API's {@link PoolView}. */
public final class PoolStore {

  private final Jdbi jdbi;

  PoolStore(Jdbi jdbi) {
    this.jdbi = jdbi;
  }

  public List<PoolView> all() {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM pools ORDER BY name, host")
        .map(PoolStore::map).list());
  }

  public List<PoolView> onHost(String host) {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM pools WHERE host = :host ORDER BY name")
        .bind("host", host).map(PoolStore::map).list());
  }

  public Optional<PoolView> find(String name, String host) {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM pools WHERE name = :name AND host = :host")
        .bind("name", name).bind("host", host).map(PoolStore::map).findOne());
  }

  public void upsert(PoolView pool) {
    jdbi.useTransaction(h -> upsert(h, pool));
  }

  /** What a heartbeat reports is the truth about the host's pools: replace them all at once. */
  public void replaceOnHost(String host, List<PoolView> pools) {
    jdbi.useTransaction(h -> {
      h.createUpdate("DELETE FROM pools WHERE host = :host").bind("host", host).execute();
      for (PoolView p : pools) {
        upsert(h, p);
      }
    });
  }

  private static void upsert(Handle h, PoolView p) {
    int updated = h.createUpdate("""
            UPDATE pools SET path = :path, shared = :shared, capacity_bytes = :cap, free_bytes = :free
            WHERE name = :name AND host = :host""")
        .bind("name", p.name()).bind("host", p.host()).bind("path", p.path()).bind("shared", p.shared())
        .bind("cap", p.capacityBytes()).bind("free", p.freeBytes()).execute();
    if (updated == 0) {
      h.createUpdate("""
              INSERT INTO pools (name, host, path, shared, capacity_bytes, free_bytes)
              VALUES (:name, :host, :path, :shared, :cap, :free)""")
          .bind("name", p.name()).bind("host", p.host()).bind("path", p.path()).bind("shared", p.shared())
          .bind("cap", p.capacityBytes()).bind("free", p.freeBytes()).execute();
    }
  }

  private static PoolView map(ResultSet rs, StatementContext ctx) throws SQLException {
    return new PoolView(rs.getString("name"), rs.getString("host"), rs.getString("path"),
        rs.getBoolean("shared"), rs.getLong("capacity_bytes"), rs.getLong("free_bytes"));
  }
}
