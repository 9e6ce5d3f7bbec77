package dev.ferry.controller.store;

import dev.ferry.api.VmState;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.StatementContext;

/** The {@code vms} and {@code disks} tables. */
public final class VmStore {

  private final Jdbi jdbi;

  VmStore(Jdbi jdbi) {
    this.jdbi = jdbi;
  }

  public Optional<VmRow> find(String name) {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM vms WHERE name = :name")
        .bind("name", name).map(VmStore::map).findOne());
  }

  public List<VmRow> all() {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM vms ORDER BY name").map(VmStore::map).list());
  }

  /**
   * VMs by name after {@code page.after()}, optionally only those of {@code host} and in
   * {@code state} (the stored state), at most {@code page.limit()}.
   */
  public List<VmRow> page(Page page, String host, VmState state) {
    StringBuilder sql = new StringBuilder("SELECT * FROM vms WHERE 1 = 1");
    if (page.after() != null) sql.append(" AND name > :after");
    if (host != null) sql.append(" AND host = :host");
    if (state != null) sql.append(" AND state = :state");
    sql.append(" ORDER BY name LIMIT :limit");
    return jdbi.withHandle(h -> {
      var q = h.createQuery(sql.toString()).bind("limit", page.limit());
      if (page.after() != null) q.bind("after", page.after());
      if (host != null) q.bind("host", host);
      if (state != null) q.bind("state", state.name().toLowerCase(Locale.ROOT));
      return q.map(VmStore::map).list();
    });
  }

  /** The disks of the VMs named, by VM name (one query). */
  public Map<String, List<DiskRow>> disksOf(List<String> vms) {
    Map<String, List<DiskRow>> byVm = new LinkedHashMap<>();
    if (vms.isEmpty()) return byVm;
    jdbi.withHandle(h -> h.createQuery("SELECT * FROM disks WHERE vm IN (<vms>) ORDER BY vm, id")
            .bindList("vms", vms).map(VmStore::mapDisk).list())
        .forEach(d -> byVm.computeIfAbsent(d.vm(), k -> new java.util.ArrayList<>()).add(d));
    return byVm;
  }

  public List<VmRow> onHost(String host) {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM vms WHERE host = :host ORDER BY name")
        .bind("host", host).map(VmStore::map).list());
  }

  public List<DiskRow> disks(String vm) {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM disks WHERE vm = :vm ORDER BY id")
        .bind("vm", vm).map(VmStore::mapDisk).list());
  }

  /** Stores a new VM and its disks in one transaction. */
  public void insert(VmRow vm, List<DiskRow> disks) {
    insert(vm, disks, List.of());
  }

  /**
   * Stores a new VM, its disks and its NICs in one transaction; a MAC another VM took meanwhile
   * fails the whole insert (the column is unique).
   */
  public void insert(VmRow vm, List<DiskRow> disks, List<NicRow> nics) {
    jdbi.useTransaction(h -> {
      h.createUpdate("""
              INSERT INTO vms (name, host, spec, state, cpus, memory_requested_bytes, memory_given_bytes,
                memory_adjustment, machine_type, cpu_model, accelerator, pid)
              VALUES (:name, :host, :spec, :state, :cpus, :req, :given, :adj, :machine, :cpu, :accel, :pid)""")
          .bindMap(params(vm)).execute();
      for (DiskRow d : disks) {
        h.createUpdate("""
                INSERT INTO disks (vm, id, pool, format, path, size_bytes, created_by_ferry)
                VALUES (:vm, :id, :pool, :format, :path, :size, :ferry)""")
            .bind("vm", d.vm()).bind("id", d.id()).bind("pool", d.pool()).bind("format", d.format())
            .bind("path", d.path()).bind("size", d.sizeBytes()).bind("ferry", d.createdByFerry())
            .execute();
      }
      for (NicRow n : nics) {
        h.createUpdate("INSERT INTO nics (vm, idx, network, mac) VALUES (:vm, :idx, :network, :mac)")
            .bind("vm", n.vm()).bind("idx", n.index()).bind("network", n.network()).bind("mac", n.mac()).execute();
      }
    });
  }

  /** Stores many VMs without disks in one transaction (one disk flush): how a load benchmark seeds its store. */
  public void insertAll(List<VmRow> vms) {
    jdbi.useTransaction(h -> {
      var batch = h.prepareBatch("""
          INSERT INTO vms (name, host, spec, state, cpus, memory_requested_bytes, memory_given_bytes,
            memory_adjustment, machine_type, cpu_model, accelerator, pid)
          VALUES (:name, :host, :spec, :state, :cpus, :req, :given, :adj, :machine, :cpu, :accel, :pid)""");
      for (VmRow vm : vms) batch.bindMap(params(vm)).add();
      batch.execute();
    });
  }

  /** Replaces the live facts of a VM (state, pid, memory given, machine type, accelerator). */
  public void update(VmRow vm) {
    jdbi.useHandle(h -> h.createUpdate("""
            UPDATE vms SET state = :state, memory_given_bytes = :given, memory_adjustment = :adj,
              machine_type = :machine, accelerator = :accel, pid = :pid WHERE name = :name""")
        .bindMap(params(vm)).execute());
  }

  /**
   * Like {@link #update} for several VMs in one transaction, each only while it still belongs to
   * {@code host}; returns the names written.
   */
  public java.util.Set<String> updateOnHost(String host, List<VmRow> vms) {
    return jdbi.inTransaction(h -> {
      java.util.Set<String> written = new java.util.HashSet<>();
      for (VmRow vm : vms) {
        int n = h.createUpdate("""
                UPDATE vms SET state = :state, memory_given_bytes = :given, memory_adjustment = :adj,
                  machine_type = :machine, accelerator = :accel, pid = :pid WHERE name = :name AND host = :onhost""")
            .bindMap(params(vm)).bind("onhost", host).execute();
        if (n == 1) written.add(vm.name());
      }
      return written;
    });
  }

  /** A disk moved: its pool, format and path change; a moved image is always Ferry's to delete. */
  public void updateDisk(DiskRow d) {
    jdbi.useHandle(h -> h.createUpdate("""
            UPDATE disks SET pool = :pool, format = :format, path = :path, size_bytes = :size, created_by_ferry = TRUE
            WHERE vm = :vm AND id = :id""")
        .bind("vm", d.vm()).bind("id", d.id()).bind("pool", d.pool()).bind("format", d.format())
        .bind("path", d.path()).bind("size", d.sizeBytes()).execute());
  }

  /**
   * A live migration handed the VM over: its owner becomes {@code host} and its copied disks point
   * at their new images, in one transaction, so at every moment exactly one host owns the VM.
   */
  public void transfer(String name, String host, List<DiskRow> movedDisks) {
    jdbi.useTransaction(h -> {
      h.createUpdate("UPDATE vms SET host = :host WHERE name = :name").bind("name", name).bind("host", host).execute();
      for (DiskRow d : movedDisks) {
        h.createUpdate("""
                UPDATE disks SET pool = :pool, format = :format, path = :path, created_by_ferry = TRUE
                WHERE vm = :vm AND id = :id""")
            .bind("vm", d.vm()).bind("id", d.id()).bind("pool", d.pool()).bind("format", d.format())
            .bind("path", d.path()).execute();
      }
    });
  }

  public void delete(String name) {
    jdbi.useTransaction(h -> {
      h.createUpdate("DELETE FROM disks WHERE vm = :name").bind("name", name).execute();
      h.createUpdate("DELETE FROM nics WHERE vm = :name").bind("name", name).execute();
      h.createUpdate("DELETE FROM vms WHERE name = :name").bind("name", name).execute();
    });
  }

  private static Map<String, Object> params(VmRow vm) {
    Map<String, Object> m = new HashMap<>();
    m.put("name", vm.name());
    m.put("host", vm.host());
    m.put("spec", vm.spec());
    m.put("state", vm.state().name().toLowerCase(Locale.ROOT));
    m.put("cpus", vm.cpus());
    m.put("req", vm.memoryRequestedBytes());
    m.put("given", vm.memoryGivenBytes());
    m.put("adj", vm.memoryAdjustment());
    m.put("machine", vm.machineType());
    m.put("cpu", vm.cpuModel());
    m.put("accel", vm.accelerator());
    m.put("pid", vm.pid());
    return m;
  }

  private static VmRow map(ResultSet rs, StatementContext ctx) throws SQLException {
    long pid = rs.getLong("pid");
    Long pidOrNull = rs.wasNull() ? null : pid;
    return new VmRow(
        rs.getString("name"),
        rs.getString("host"),
        rs.getString("spec"),
        VmState.valueOf(rs.getString("state").toUpperCase(Locale.ROOT)),
        rs.getInt("cpus"),
        rs.getLong("memory_requested_bytes"),
        rs.getLong("memory_given_bytes"),
        rs.getString("memory_adjustment"),
        rs.getString("machine_type"),
        rs.getString("cpu_model"),
        rs.getString("accelerator"),
        pidOrNull);
  }

  private static DiskRow mapDisk(ResultSet rs, StatementContext ctx) throws SQLException {
    return new DiskRow(rs.getString("vm"), rs.getString("id"), rs.getString("pool"), rs.getString("format"),
        rs.getString("path"), rs.getLong("size_bytes"), rs.getBoolean("created_by_ferry"));
  }
}
