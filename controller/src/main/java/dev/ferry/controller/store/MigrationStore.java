package dev.ferry.controller.store;

import dev.ferry.api.MigrationStatus;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.StatementContext;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;

/** The {@code migrations} table. Phase changes are compare-and-set: a phase never goes backwards. */
public final class MigrationStore {

  private final Jdbi jdbi;

  MigrationStore(Jdbi jdbi) {
    this.jdbi = jdbi;
  }

  /**
   * Records a new migration; false (nothing written) when its VM already has a running one: the
   * database's unique index on running migrations per VM refused it.
   */
  public boolean insert(MigrationRow m) {
    try {
      insertRow(m);
      return true;
    } catch (UnableToExecuteStatementException e) {
      if (uniqueViolation(e) && m.status() == MigrationStatus.RUNNING && runningForVm(m.vm()).isPresent()) return false;
      throw e;
    }
  }

  /** PostgreSQL says SQLState 23505; SQLite's driver names the constraint in its message. */
  private static boolean uniqueViolation(UnableToExecuteStatementException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException s && ("23505".equals(s.getSQLState())
          || String.valueOf(s.getMessage()).contains("UNIQUE constraint failed"))) {
        return true;
      }
    }
    return false;
  }

  private void insertRow(MigrationRow m) {
    jdbi.useHandle(h -> h.createUpdate("""
            INSERT INTO migrations (id, kind, vm, source, target, status, phase, request, record,
              cancel_requested, created_ms, updated_ms)
            VALUES (:id, :kind, :vm, :source, :target, :status, :phase, :request, :record, :cancel, :created, :updated)""")
        .bind("id", m.id()).bind("kind", m.kind()).bind("vm", m.vm()).bind("source", m.source())
        .bind("target", m.target()).bind("status", text(m.status())).bind("phase", m.phase())
        .bind("request", m.request()).bind("record", m.record()).bind("cancel", m.cancelRequested())
        .bind("created", m.created().toEpochMilli()).bind("updated", m.updated().toEpochMilli())
        .execute());
  }

  public Optional<MigrationRow> find(String id) {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM migrations WHERE id = :id")
        .bind("id", id).map(MigrationStore::map).findOne());
  }

  /** Newest first. */
  public List<MigrationRow> all() {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM migrations ORDER BY created_ms DESC, id")
        .map(MigrationStore::map).list());
  }

  /**
   * Migrations newest first (the order of {@link #all}) after the migration {@code page.after()},
   * filtered by any of VM, host (as source or target), status, phase and kind; empty when the
   * cursor names no migration.
   */
  public List<MigrationRow> page(Page page, Filter f) {
    StringBuilder sql = new StringBuilder("SELECT * FROM migrations m WHERE 1 = 1");
    if (page.after() != null) {
      sql.append(" AND EXISTS (SELECT 1 FROM migrations c WHERE c.id = :after AND (m.created_ms < c.created_ms")
          .append(" OR (m.created_ms = c.created_ms AND m.id > c.id)))");
    }
    if (f.vm() != null) sql.append(" AND m.vm = :vm");
    if (f.host() != null) sql.append(" AND (m.source = :host OR m.target = :host)");
    if (f.status() != null) sql.append(" AND m.status = :status");
    if (f.phase() != null) sql.append(" AND m.phase = :phase");
    if (f.kind() != null) sql.append(" AND m.kind = :kind");
    sql.append(" ORDER BY m.created_ms DESC, m.id LIMIT :limit");
    return jdbi.withHandle(h -> {
      var q = h.createQuery(sql.toString()).bind("limit", page.limit());
      if (page.after() != null) q.bind("after", page.after());
      if (f.vm() != null) q.bind("vm", f.vm());
      if (f.host() != null) q.bind("host", f.host());
      if (f.status() != null) q.bind("status", text(f.status()));
      if (f.phase() != null) q.bind("phase", f.phase());
      if (f.kind() != null) q.bind("kind", f.kind());
      return q.map(MigrationStore::map).list();
    });
  }

  /** Which migrations a list shows; null fields do not filter. */
  public record Filter(String vm, String host, MigrationStatus status, String phase, String kind) {
    public static final Filter NONE = new Filter(null, null, null, null, null);
  }

  public List<MigrationRow> running() {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM migrations WHERE status = :running ORDER BY created_ms")
        .bind("running", text(MigrationStatus.RUNNING)).map(MigrationStore::map).list());
  }

  public Optional<MigrationRow> runningForVm(String vm) {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM migrations WHERE vm = :vm AND status = :running")
        .bind("vm", vm).bind("running", text(MigrationStatus.RUNNING)).map(MigrationStore::map).findFirst());
  }

  /** Moves {@code id} from phase {@code from} to {@code to}; false when it was no longer in {@code from}. */
  public boolean advance(String id, String from, String to, MigrationStatus status, String record, Instant now) {
    return jdbi.withHandle(h -> h.createUpdate("""
            UPDATE migrations SET phase = :to, status = :status, record = :record, updated_ms = :now
            WHERE id = :id AND phase = :from""")
        .bind("id", id).bind("from", from).bind("to", to).bind("status", text(status))
        .bind("record", record).bind("now", now.toEpochMilli()).execute()) == 1;
  }

  /** Progress only: the phase stays, the record changes. */
  public void progress(String id, String phase, String record, Instant now) {
    jdbi.useHandle(h -> h.createUpdate("""
            UPDATE migrations SET record = :record, updated_ms = :now WHERE id = :id AND phase = :phase""")
        .bind("id", id).bind("phase", phase).bind("record", record).bind("now", now.toEpochMilli()).execute());
  }

  /** Asks the runner to cancel; true when the migration was still in one of {@code cancellable}. */
  public boolean requestCancel(String id, List<String> cancellable) {
    return jdbi.withHandle(h -> h.createUpdate("""
            UPDATE migrations SET cancel_requested = TRUE WHERE id = :id AND phase IN (<phases>)""")
        .bind("id", id).bindList("phases", cancellable).execute()) == 1;
  }

  private static String text(MigrationStatus s) {
    return s.name().toLowerCase(Locale.ROOT);
  }

  private static MigrationRow map(ResultSet rs, StatementContext ctx) throws SQLException {
    return new MigrationRow(rs.getString("id"), rs.getString("kind"), rs.getString("vm"), rs.getString("source"),
        rs.getString("target"), MigrationStatus.valueOf(rs.getString("status").toUpperCase(Locale.ROOT)),
        rs.getString("phase"), rs.getString("request"), rs.getString("record"), rs.getBoolean("cancel_requested"),
        Instant.ofEpochMilli(rs.getLong("created_ms")), Instant.ofEpochMilli(rs.getLong("updated_ms")));
  }
}
