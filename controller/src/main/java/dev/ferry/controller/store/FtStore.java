package dev.ferry.controller.store;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.StatementContext;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;

/** The {@code ft_protections} table. Phase changes are compare-and-set, as for migrations. */
public final class FtStore {

  private final Jdbi jdbi;

  FtStore(Jdbi jdbi) {
    this.jdbi = jdbi;
  }

  /** Records a new protection; false (nothing written) when the VM already has one (its primary key). */
  public boolean insert(FtRow r) {
    if (find(r.vm()).isPresent()) return false;
    try {
      jdbi.useHandle(h -> h.createUpdate("""
              INSERT INTO ft_protections (vm, phase, primary_host, secondary_host, checkpoint_interval_ms, record,
                created_ms, updated_ms)
              VALUES (:vm, :phase, :primary, :secondary, :interval, :record, :created, :updated)""")
          .bind("vm", r.vm()).bind("phase", r.phase()).bind("primary", r.primaryHost())
          .bind("secondary", r.secondaryHost()).bind("interval", r.checkpointIntervalMs()).bind("record", r.record())
          .bind("created", r.created().toEpochMilli()).bind("updated", r.updated().toEpochMilli()).execute());
      return true;
    } catch (UnableToExecuteStatementException e) {
      if (find(r.vm()).isPresent()) return false;
      throw e;
    }
  }

  public Optional<FtRow> find(String vm) {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM ft_protections WHERE vm = :vm")
        .bind("vm", vm).map(FtStore::map).findOne());
  }

  public List<FtRow> all() {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM ft_protections ORDER BY vm").map(FtStore::map).list());
  }

  /** Moves {@code vm} from phase {@code from} to {@code to}; false when it was no longer in {@code from}. */
  public boolean advance(String vm, String from, String to, String record, Instant now) {
    return jdbi.withHandle(h -> h.createUpdate("""
            UPDATE ft_protections SET phase = :to, record = :record, updated_ms = :now WHERE vm = :vm AND phase = :from""")
        .bind("vm", vm).bind("from", from).bind("to", to).bind("record", record).bind("now", now.toEpochMilli())
        .execute()) == 1;
  }

  /** The record only, in the phase it is in. */
  public void update(String vm, String phase, String record, Instant now) {
    jdbi.useHandle(h -> h.createUpdate("""
            UPDATE ft_protections SET record = :record, updated_ms = :now WHERE vm = :vm AND phase = :phase""")
        .bind("vm", vm).bind("phase", phase).bind("record", record).bind("now", now.toEpochMilli()).execute());
  }

  /** Ends a protection (disable done, or an enable rolled back); only from {@code phase}. */
  public boolean delete(String vm, String phase) {
    return jdbi.withHandle(h -> h.createUpdate("DELETE FROM ft_protections WHERE vm = :vm AND phase = :phase")
        .bind("vm", vm).bind("phase", phase).execute()) == 1;
  }

  private static FtRow map(ResultSet rs, StatementContext ctx) throws SQLException {
    return new FtRow(rs.getString("vm"), rs.getString("phase"), rs.getString("primary_host"),
        rs.getString("secondary_host"), rs.getInt("checkpoint_interval_ms"), rs.getString("record"),
        Instant.ofEpochMilli(rs.getLong("created_ms")), Instant.ofEpochMilli(rs.getLong("updated_ms")));
  }
}
