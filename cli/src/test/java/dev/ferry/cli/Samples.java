package dev.ferry.cli;

import dev.ferry.api.DiskView;
import dev.ferry.api.HostState;
import dev.ferry.api.HostView;
import dev.ferry.api.MigrationStatus;
import dev.ferry.api.MigrationView;
import dev.ferry.api.PoolView;
import dev.ferry.api.VmState;
import dev.ferry.api.VmView;
import java.time.Instant;
import java.util.List;

/** DTOs as a controller would answer them. */
public final class Samples {

  private Samples() {}

  public static final long GIB = 1L << 30;

  public static HostView host(String name, HostState state) {
    return new HostView(name, "http://127.0.0.1:7001", state, Instant.parse("2026-11-02T10:15:30Z"), 8, 2,
        16 * GIB, 2 * GIB, "9.2.0", "kvm");
  }

  public static VmView vm(String name) {
    return new VmView(name, "host1", VmState.RUNNING, 2, GIB, GIB + (2L << 20),
        "rounded up to a 2 MiB multiple for hugepage alignment", "pc-q35-9.2", "host", "kvm", 4242L,
        List.of(new DiskView("disk0", "shared", "qcow2", "/pools/shared/" + name + "-disk0.qcow2", 10 * GIB)));
  }

  public static PoolView pool(String name, String host) {
    return new PoolView(name, host, "/pools/" + name, name.equals("shared"), 100 * GIB, 40 * GIB);
  }

  /** A storage migration of vm web's disk0 from pool local to fast, 4 GiB in all. */
  public static MigrationView storage(String id, MigrationStatus status, String phase, long transferred, String reason) {
    long total = 4 * GIB;
    boolean running = status == MigrationStatus.RUNNING;
    boolean ok = status == MigrationStatus.SUCCEEDED;
    return new MigrationView(id, "storage", "web", "local", "fast", status, phase,
        Instant.parse("2026-11-02T10:15:30Z"), running ? null : Instant.parse("2026-11-02T10:16:42.500Z"),
        running ? null : 72_500L, transferred, total - transferred, total, running ? 64.0 * (1 << 20) : null, null, 0,
        running ? (total - transferred) / (64L << 20) * 1000 : null, ok ? 12L : null, ok ? 15L : null, false,
        transferred, ok ? Boolean.TRUE : null, reason, List.of("disk0"), 0, List.of(), null, null, List.of());
  }
}
