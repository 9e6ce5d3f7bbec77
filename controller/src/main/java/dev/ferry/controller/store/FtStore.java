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

  /**
   * The secondary took over: in one transaction the VM's owner becomes {@code newPrimary}, its disks
   * point at the replicas there, and the protection moves from {@code from} to {@code to} with
   * the hosts swapped (the old primary is kept as {@code secondary_host}, where a stale copy may
   * linger). False, and nothing written, when the protection was no longer in {@code from}.
   */
  public boolean failover(String vm, String from, String to, String newPrimary, String oldPrimary,
      java.util.Map<String, String> diskPaths, String record, Instant now) {
    return jdbi.inTransaction(h -> {
      int n = h.createUpdate("""
              UPDATE ft_protections SET phase = :to, primary_host = :primary, secondary_host = :secondary,
                record = :record, updated_ms = :now WHERE vm = :vm AND phase = :from""")
          .bind("vm", vm).bind("from", from).bind("to", to).bind("primary", newPrimary).bind("secondary", oldPrimary)
          .bind("record", record).bind("now", now.toEpochMilli()).execute();
      if (n != 1) {
        h.rollback();
        return false;
      }
      h.createUpdate("UPDATE vms SET host = :host WHERE name = :vm").bind("vm", vm).bind("host", newPrimary).execute();
      for (var d : diskPaths.entrySet()) {
        h.createUpdate("UPDATE disks SET path = :path, created_by_ferry = TRUE WHERE vm = :vm AND id = :id")
            .bind("vm", vm).bind("id", d.getKey()).bind("path", d.getValue()).execute();
      }
      return true;
    });
  }

  /**
   * Re-protection: the protection moves from {@code from} to {@code to} with {@code secondary} as
   * its new secondary host (the primary stays). False, and nothing written, when it was no longer
   * in {@code from}.
   */
  public boolean rebind(String vm, String from, String to, String secondary, String record, Instant now) {
    return jdbi.withHandle(h -> h.createUpdate("""
            UPDATE ft_protections SET phase = :to, secondary_host = :secondary, record = :record, updated_ms = :now
            WHERE vm = :vm AND phase = :from""")
        .bind("vm", vm).bind("from", from).bind("to", to).bind("secondary", secondary).bind("record", record)
        .bind("now", now.toEpochMilli()).execute()) == 1;
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
