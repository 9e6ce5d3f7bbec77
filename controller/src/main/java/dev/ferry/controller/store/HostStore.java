package dev.ferry.controller.store;

import dev.ferry.api.HostState;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.StatementContext;

/** The {@code hosts} table. */
public final class HostStore {

  private final Jdbi jdbi;

  HostStore(Jdbi jdbi) {
    this.jdbi = jdbi;
  }

  public Optional<HostRow> find(String name) {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM hosts WHERE name = :name")
        .bind("name", name).map(HostStore::map).findOne());
  }

  public List<HostRow> all() {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM hosts ORDER BY name").map(HostStore::map).list());
  }

  /** Inserts or replaces the host. */
  public void upsert(HostRow host) {
    jdbi.useTransaction(h -> {
      int updated = h.createUpdate("""
              UPDATE hosts SET url = :url, state = :state, last_heartbeat_ms = :hb, cpus = :cpus,
                memory_bytes = :mem, qemu_version = :qemu, accelerator = :accel WHERE name = :name""")
          .bindMap(params(host)).execute();
      if (updated == 0) {
        h.createUpdate("""
                INSERT INTO hosts (name, url, state, last_heartbeat_ms, cpus, memory_bytes, qemu_version, accelerator)
                VALUES (:name, :url, :state, :hb, :cpus, :mem, :qemu, :accel)""")
            .bindMap(params(host)).execute();
      }
    });
  }

  /** A steady host's heartbeat: only its time changes. */
  public void touch(String name, Instant at) {
    jdbi.useHandle(h -> h.createUpdate("UPDATE hosts SET last_heartbeat_ms = :hb WHERE name = :name")
        .bind("name", name).bind("hb", at.toEpochMilli()).execute());
  }

  /**
   * Marks the host unreachable only if it is still online and its last heartbeat is still older
   * than {@code staleBefore}: a heartbeat that arrived meanwhile wins.
   */
  public boolean markUnreachable(String name, Instant staleBefore) {
    return jdbi.withHandle(h -> h.createUpdate("""
            UPDATE hosts SET state = :unreachable
            WHERE name = :name AND state = :online AND last_heartbeat_ms < :before""")
        .bind("unreachable", text(HostState.UNREACHABLE))
        .bind("online", text(HostState.ONLINE))
        .bind("name", name)
        .bind("before", staleBefore.toEpochMilli())
        .execute()) == 1;
  }

  private static java.util.Map<String, Object> params(HostRow host) {
    var m = new java.util.HashMap<String, Object>();
    m.put("name", host.name());
    m.put("url", host.url());
    m.put("state", text(host.state()));
    m.put("hb", host.lastHeartbeat().toEpochMilli());
    m.put("cpus", host.cpus());
    m.put("mem", host.memoryBytes());
    m.put("qemu", host.qemuVersion());
    m.put("accel", host.accelerator());
    return m;
  }

  static String text(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }

  private static HostRow map(ResultSet rs, StatementContext ctx) throws SQLException {
    return new HostRow(
        rs.getString("name"),
        rs.getString("url"),
        HostState.valueOf(rs.getString("state").toUpperCase(Locale.ROOT)),
        Instant.ofEpochMilli(rs.getLong("last_heartbeat_ms")),
        rs.getInt("cpus"),
        rs.getLong("memory_bytes"),
        rs.getString("qemu_version"),
        rs.getString("accelerator"));
  }
}
