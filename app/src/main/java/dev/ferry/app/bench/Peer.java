package dev.ferry.app.bench;

import dev.ferry.api.agent.MigrationStats;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a system users would pick instead of Ferry does to QEMU when it live-migrates with its
 * defaults, read from its source: the capabilities and parameters it sets before {@code migrate},
 * and what its monitor loop does while the migration runs (raise the downtime limit, abort). The
 * bench applies a peer through the same agents and QMP path as every other method, so only the
 * policy differs; each policy object is fresh per migration (some keep counters).
 *
 * <p>Left out on purpose, the same for every method: how each system resumes the target after
 * {@code completed} (libvirt's Finish/Confirm RPCs, Proxmox's {@code resume} over its tunnel): all
 * methods resume through the same agent call, so the comparison is of migration policy, not of
 * RPC stacks.
 */
sealed interface Peer {

  /** the {@code --methods} name */
  String id();

  /** where each setting comes from: repository, file, setting */
  String reference();

  Map<String, Boolean> capabilities();

  /** {@code migrate-set-parameters} on the source before {@code migrate} */
  Map<String, Object> parameters(long guestBytes);

  /**
   * The monitor loop, asked at the bench's poll with the source's latest stats.
   *
   * @param elapsedMs since {@code migrate} was sent
   * @return what the peer does now, or null for nothing
   */
  Action step(long elapsedMs, MigrationStats s);

  sealed interface Action {}

  /** {@code migrate-set-parameters} mid-flight, with the peer's own log line */
  record Tune(Map<String, Object> parameters, String note) implements Action {}

  /** the peer gives up: {@code migrate_cancel} */
  record Abort(String reason) implements Action {}

  /** QEMU's default downtime limit, which libvirt leaves alone unless told (migration.json: downtime-limit) */
  long QEMU_DOWNTIME_MS = 300;

  /**
   * libvirt's "unlimited" migration speed: QEMU_DOMAIN_MIG_BANDWIDTH_MAX, which
   * {@code virsh migrate-getspeed} prints as 8796093022207 MiB/s; libvirt passes it to QEMU's
   * max-bandwidth in bytes/s (src/qemu/qemu_domain.h, qemu_migration_params.c)
   */
  long LIBVIRT_UNLIMITED_BYTES_PER_S = 8796093022207L * 1024 * 1024;

  static List<Peer> all() {
    return List.of(new Libvirt(), new Proxmox(), new KubeVirt(), new Nova());
  }

  static Peer of(String id) {
    return switch (id) {
      case "libvirt" -> new Libvirt();
      case "proxmox" -> new Proxmox();
      case "kubevirt" -> new KubeVirt();
      case "nova" -> new Nova();
      default -> throw new IllegalArgumentException("peer '" + id + "' is not one of libvirt, proxmox, kubevirt, nova");
    };
  }

  /** {@code virsh migrate --live DOM URI}: no flag, so no post-copy, no auto-converge, no compression. */
  final class Libvirt implements Peer {
    public String id() {
      return "libvirt";
    }

    public String reference() {
      return "libvirt src/qemu/qemu_migration.c + qemu_migration_params.c: `virsh migrate --live` without flags sets no"
          + " capability beyond events, max-bandwidth to its unlimited QEMU_DOMAIN_MIG_BANDWIDTH_MAX (the speed"
          + " `virsh migrate-getspeed` prints as 8796093022207 MiB/s) and leaves downtime-limit at QEMU's 300 ms; libvirt"
          + " itself never gives up on a migration (no timeout unless `--timeout`)";
    }

    public Map<String, Boolean> capabilities() {
      return Map.of();
    }

    public Map<String, Object> parameters(long guestBytes) {
      return Map.of("max-bandwidth", LIBVIRT_UNLIMITED_BYTES_PER_S);
    }

    public Action step(long elapsedMs, MigrationStats s) {
      return null;
    }
  }

  /**
   * {@code qm migrate VMID NODE --online}: PVE::QemuMigrate::phase2 and
   * PVE::QemuServer::set_migration_caps.
   */
  final class Proxmox implements Peer {
    /** PVE::QemuServer's migrate_downtime default, 0.1 s */
    static final long DOWNTIME_MS = 100;
    /** phase2: "always set migrate speed as QEMU default to 128 MiBps == 1 Gbps, use 16 GiBps" */
    static final long SPEED_BYTES_PER_S = 16L << 30;
    /** phase2 polls query-migrate every 1 s, every 100 ms once what remains is below the average per poll */
    static final long POLL_MS = 1000;
    static final long FAST_POLL_MS = 100;

    private long nextPollMs = POLL_MS;
    private int polls;
    private long lastTransferred;
    private Long lastRemaining;
    private int downtimeCounter;
    private long downtimeMs = DOWNTIME_MS;

    public String id() {
      return "proxmox";
    }

    public String reference() {
      return "proxmox/qemu-server PVE/QemuServer.pm set_migration_caps: auto-converge and xbzrle on (dirty-bitmaps only"
          + " with PBS); PVE/QemuMigrate.pm phase2: max-bandwidth 16 GiB/s without a bwlimit, downtime-limit from"
          + " migrate_downtime (default 0.1 s), xbzrle-cache-size 10 % of RAM rounded to a power of 2; its loop polls"
          + " query-migrate every 1 s (100 ms once remaining < the average transferred per poll), counts polls where"
          + " remaining grew (or is 0), and after more than 5 doubles downtime-limit (\"auto-increased downtime to continue"
          + " migration\"); it never aborts by itself";
    }

    public Map<String, Boolean> capabilities() {
      var c = new LinkedHashMap<String, Boolean>();
      c.put("auto-converge", true);
      c.put("xbzrle", true);
      return c;
    }

    public Map<String, Object> parameters(long guestBytes) {
      var p = new LinkedHashMap<String, Object>();
      p.put("max-bandwidth", SPEED_BYTES_PER_S);
      p.put("downtime-limit", DOWNTIME_MS);
      p.put("xbzrle-cache-size", roundPowerOf2(guestBytes / 10));
      return p;
    }

    /** QemuMigrate.pm round_powerof2: the next power of two at or above x */
    static long roundPowerOf2(long x) {
      if (x < 2) return 1;
      return 2L << (63 - Long.numberOfLeadingZeros(x - 1));
    }

    public Action step(long elapsedMs, MigrationStats s) {
      if (elapsedMs < nextPollMs) return null;
      polls++;
      long avgPerPoll = lastTransferred / polls;
      long transferred = s.ramTransferredBytes();
      long rem = s.ramRemainingBytes();
      Action a = null;
      if (transferred != lastTransferred) {
        boolean fast = avgPerPoll > 0 && rem < avgPerPoll;
        nextPollMs = elapsedMs + (fast ? FAST_POLL_MS : POLL_MS);
        if (lastRemaining != null && lastRemaining > 0 && rem > lastRemaining || rem == 0) downtimeCounter++;
        lastRemaining = rem;
        if (downtimeCounter > 5) {
          downtimeCounter = 0;
          downtimeMs *= 2;
          a = new Tune(Map.of("downtime-limit", downtimeMs), "auto-increased downtime to continue migration: " + downtimeMs + " ms");
        }
      } else {
        nextPollMs = elapsedMs + POLL_MS;
      }
      lastTransferred = transferred;
      return a;
    }
  }

  /**
   * KubeVirt's default MigrationConfiguration (pkg/virt-config/virt-config.go) applied by
   * virt-launcher through libvirt (pkg/virt-launcher/virtwrap/live-migration-source.go).
   */
  final class KubeVirt implements Peer {
    static final long PROGRESS_TIMEOUT_S = 150;
    static final long COMPLETION_TIMEOUT_PER_GIB_S = 800;

    private long watermark = Long.MAX_VALUE;
    private long lastProgressMs;

    public String id() {
      return "kubevirt";
    }

    public String reference() {
      return "kubevirt pkg/virt-config/virt-config.go: BandwidthPerMigrationDefault \"0Mi\" (unlimited: libvirt's"
          + " maximum), MigrationAllowAutoConverge false, MigrationAllowPostCopy false, MigrationProgressTimeout 150 s,"
          + " MigrationCompletionTimeoutPerGiB 800 s (the HyperConverged operator sets 150); no downtime limit is set"
          + " (QEMU's 300 ms through libvirt); live-migration-source.go's migrationMonitor aborts when remaining data has"
          + " not dropped below its low-water mark for progressTimeout, or after completionTimeoutPerGiB × the guest's"
          + " GiB (rounded up, ScaledValue(Giga)) without AllowWorkloadDisruption";
    }

    public Map<String, Boolean> capabilities() {
      return Map.of();
    }

    public Map<String, Object> parameters(long guestBytes) {
      return Map.of("max-bandwidth", LIBVIRT_UNLIMITED_BYTES_PER_S);
    }

    public Action step(long elapsedMs, MigrationStats s) {
      long rem = s.ramRemainingBytes();
      if (rem < watermark) {
        watermark = rem;
        lastProgressMs = elapsedMs;
      }
      if ((elapsedMs - lastProgressMs) / 1000 > PROGRESS_TIMEOUT_S) {
        return new Abort("Live migration stuck for " + (elapsedMs - lastProgressMs) / 1000 + " seconds and has been aborted");
      }
      long gib = Math.max(1, ceilDiv(s.ramTotalBytes(), 1_000_000_000L));
      if (elapsedMs / 1000 > COMPLETION_TIMEOUT_PER_GIB_S * gib) {
        return new Abort("Live migration is not completed after " + COMPLETION_TIMEOUT_PER_GIB_S * gib + " seconds and has been aborted");
      }
      return null;
    }

    private static long ceilDiv(long a, long b) {
      return (a + b - 1) / b;
    }
  }

  /**
   * Nova's libvirt driver with nova.conf defaults: nova/virt/libvirt/migration.py
   * downtime_steps and nova/conf/libvirt.py.
   */
  final class Nova implements Peer {
    static final long DOWNTIME_MS = 500;
    static final int STEPS = 10;
    static final long DELAY_S = 75;
    static final long COMPLETION_TIMEOUT_S = 800;
    /** "with lower bound of a minimum of 2 GiB" (live_migration_downtime_delay, completion_timeout) */
    static final long MIN_DATA_GIB = 2;

    private int step = -1;

    public String id() {
      return "nova";
    }

    public String reference() {
      return "openstack/nova nova/conf/libvirt.py: live_migration_bandwidth 0 (libvirt's unlimited),"
          + " live_migration_downtime 500 ms, live_migration_downtime_steps 10, live_migration_downtime_delay 75 s per"
          + " GiB (at least 2 GiB), live_migration_completion_timeout 800 s per GiB (at least 2 GiB) then"
          + " live_migration_timeout_action abort, live_migration_permit_post_copy false,"
          + " live_migration_permit_auto_converge false; nova/virt/libvirt/migration.py downtime_steps: step i at"
          + " i × delay × data_gb s sets downtime base + offset × i, base = 500/10 = 50 ms, offset = 45 ms, so a guest"
          + " under 2 GiB migrates with a 50 ms limit for its first 150 s";
    }

    public Map<String, Boolean> capabilities() {
      return Map.of();
    }

    public Map<String, Object> parameters(long guestBytes) {
      var p = new LinkedHashMap<String, Object>();
      p.put("max-bandwidth", LIBVIRT_UNLIMITED_BYTES_PER_S);
      p.put("downtime-limit", downtimeAt(0));
      step = 0;
      return p;
    }

    /** downtime_steps(data_gb) for step i */
    static long downtimeAt(int i) {
      double base = (double) DOWNTIME_MS / STEPS;
      double offset = (DOWNTIME_MS - base) / STEPS;
      return (long) (base + offset * i);
    }

    public Action step(long elapsedMs, MigrationStats s) {
      long dataGib = Math.max(MIN_DATA_GIB, s.ramTotalBytes() >> 30);
      if (elapsedMs / 1000 > COMPLETION_TIMEOUT_S * dataGib) {
        return new Abort("live migration not completed after " + COMPLETION_TIMEOUT_S * dataGib + " s: aborted"
            + " (live_migration_timeout_action abort)");
      }
      long delayS = DELAY_S * dataGib;
      int due = (int) Math.min(STEPS, elapsedMs / 1000 / delayS);
      if (due > step) {
        step = due;
        return new Tune(Map.of("downtime-limit", downtimeAt(due)), "downtime step " + due + ": " + downtimeAt(due) + " ms");
      }
      return null;
    }
  }
}
