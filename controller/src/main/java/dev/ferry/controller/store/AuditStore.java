package dev.ferry.controller.store;

import dev.ferry.api.auth.AuditEntry;
import java.time.Instant;
import java.util.List;
import org.jdbi.v3.core.Jdbi;

/** The {@code audit} table: one row per mutating call, appended only. */
public final class AuditStore {

  /** Longest detail kept; a reason longer than this is cut, the row is still written. */
  static final int MAX_DETAIL = 1024;

  private final Jdbi jdbi;

  AuditStore(Jdbi jdbi) {
    this.jdbi = jdbi;
  }

  public void append(Instant at, String actor, String action, String target, String outcome, int status, String detail) {
    jdbi.useHandle(h -> h.createUpdate("""
            INSERT INTO audit (at_ms, actor, action, target, outcome, status, detail)
            VALUES (:at, :actor, :action, :target, :outcome, :status, :detail)""")
        .bind("at", at.toEpochMilli()).bind("actor", cut(actor, 80)).bind("action", cut(action, 64))
        .bind("target", cut(target, 256)).bind("outcome", outcome).bind("status", status)
        .bind("detail", cut(detail, MAX_DETAIL)).execute());
  }

  /**
   * Newest first, at most {@code limit}; {@code beforeId} (exclusive) pages back, {@code actor}
   * and {@code action} filter when not null.
   */
  public List<AuditEntry> list(int limit, Long beforeId, String actor, String action) {
    StringBuilder sql = new StringBuilder("SELECT * FROM audit WHERE 1 = 1");
    if (beforeId != null) sql.append(" AND id < :before");
    if (actor != null) sql.append(" AND actor = :actor");
    if (action != null) sql.append(" AND action = :action");
    sql.append(" ORDER BY id DESC LIMIT :limit");
    return jdbi.withHandle(h -> {
      var q = h.createQuery(sql.toString()).bind("limit", limit);
      if (beforeId != null) q.bind("before", beforeId);
      if (actor != null) q.bind("actor", actor);
      if (action != null) q.bind("action", action);
      return q.map((rs, ctx) -> new AuditEntry(rs.getLong("id"), Instant.ofEpochMilli(rs.getLong("at_ms")),
          rs.getString("actor"), rs.getString("action"), rs.getString("target"), rs.getString("outcome"),
          rs.getInt("status"), rs.getString("detail"))).list();
    });
  }

  private static String cut(String s, int max) {
    return s == null || s.length() <= max ? s : s.substring(0, max - 3) + "...";
  }
}
