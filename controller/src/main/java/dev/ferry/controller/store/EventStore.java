package dev.ferry.controller.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.Event;
import dev.ferry.api.Json;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.StatementContext;

/** The {@code events} table: the journal behind {@code /api/events} and its Last-Event-ID replay. */
public final class EventStore {

  private final Jdbi jdbi;

  EventStore(Jdbi jdbi) {
    this.jdbi = jdbi;
  }

  /** Appends an event; the database assigns its id (increasing, never reused). */
  public Event append(Instant time, String kind, String subject, JsonNode data) {
    String json = data.toString();
    // RETURNING works on SQLite >= 3.35 and PostgreSQL alike
    long id = jdbi.withHandle(h -> h.createQuery("""
            INSERT INTO events (time_ms, kind, subject, data) VALUES (:time, :kind, :subject, :data)
            RETURNING id""")
        .bind("time", time.toEpochMilli()).bind("kind", kind).bind("subject", subject).bind("data", json)
        .mapTo(Long.class).one());
    return new Event(id, Instant.ofEpochMilli(time.toEpochMilli()), kind, subject, data);
  }

  /** Events with an id above {@code afterId}, oldest first, at most {@code limit}. */
  public List<Event> after(long afterId, int limit) {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM events WHERE id > :after ORDER BY id LIMIT :limit")
        .bind("after", afterId).bind("limit", limit).map(EventStore::map).list());
  }

  /**
   * Deletes events older than {@code before} and all but the newest {@code maxCount}; returns the
   * highest id deleted, or 0 when nothing was. Ids are assigned in time order (the bus appends
   * under one lock), so both rules cut a prefix of the journal and a replay loses only its oldest part.
   */
  public long prune(Instant before, long maxCount) {
    return jdbi.inTransaction(h -> {
      Long byAge = h.createQuery("SELECT MAX(id) FROM events WHERE time_ms < :before")
          .bind("before", before.toEpochMilli()).mapTo(Long.class).one();
      // ids are unique, so keeping those above (newest - maxCount) keeps at most maxCount rows
      Long newest = h.createQuery("SELECT MAX(id) FROM events").mapTo(Long.class).one();
      if (newest == null) return 0L;
      // the newest event always stays, so the journal's first id always says how far pruning went
      long cut = Math.min(newest - 1, Math.max(byAge == null ? 0 : byAge, newest - maxCount));
      if (cut <= 0) return 0L;
      int deleted = h.createUpdate("DELETE FROM events WHERE id <= :cut").bind("cut", cut).execute();
      return deleted == 0 ? 0L : cut;
    });
  }

  /**
   * The lowest id still stored, or null when the journal is empty. Pruning always keeps the
   * newest event, so every id below this one that was ever assigned has been pruned.
   */
  public Long firstId() {
    return jdbi.withHandle(h -> h.createQuery("SELECT MIN(id) FROM events").mapTo(Long.class).one());
  }

  /** How many events are stored. */
  public long count() {
    return jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM events").mapTo(Long.class).one());
  }

  private static Event map(ResultSet rs, StatementContext ctx) throws SQLException {
    JsonNode data;
    try {
      data = Json.mapper().readTree(rs.getString("data"));
    } catch (JsonProcessingException e) {
      throw new SQLException("event " + rs.getLong("id") + " has unreadable data", e);
    }
    return new Event(rs.getLong("id"), Instant.ofEpochMilli(rs.getLong("time_ms")), rs.getString("kind"),
        rs.getString("subject"), data);
  }
}
