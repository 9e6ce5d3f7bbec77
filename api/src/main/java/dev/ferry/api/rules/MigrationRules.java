package dev.ferry.api.rules;

import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.Names;
import dev.ferry.api.StorageMigrationRequest;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The rules a migration request must meet that need no knowledge of the cluster: value ranges and
 * which options go together. The controller checks every request with them; the CLI checks the
 * request it is about to send with the same code, so a mistake is a usage error before anything
 * is sent and both say the same thing. Nulls mean "the default" and always pass.
 */
public final class MigrationRules {

  public static final long MAX_DOWNTIME_MS = 600_000;
  public static final int MAX_MULTIFD = 64;
  /** A cap above any link; larger numbers are typos. */
  public static final double MAX_BANDWIDTH_MIB_S = 1_000_000;
  public static final List<String> POSTCOPY = List.of("never", "auto", "always");
  public static final List<String> COMPRESS = List.of("none", "xbzrle", "zstd");
  public static final List<String> FORMATS = List.of("qcow2", "raw");
  public static final List<String> VERIFY = List.of("full", "none");

  public static final String DOWNTIME_RULE = "whole milliseconds, 1 to " + MAX_DOWNTIME_MS;
  public static final String BANDWIDTH_RULE = "a number of MiB/s more than 0, e.g. 100 or 12.5";
  public static final String ADAPTIVE_RULE = "false or absent with bandwidth_mib_s: a fixed bandwidth replaces the"
      + " adaptive rate";
  public static final String POSTCOPY_RULE = "never, auto or always";
  public static final String MULTIFD_RULE = "1 to " + MAX_MULTIFD + " channels";
  public static final String COMPRESS_RULE = "none, xbzrle or zstd";
  public static final String FORMAT_RULE = "qcow2 or raw";
  public static final String VERIFY_RULE = "full or none";
  public static final int MAX_MIGRATIONS_PER_HOST = 64;
  public static final String MIGRATIONS_PER_HOST_RULE = "a whole number of migrations from 1 to " + MAX_MIGRATIONS_PER_HOST;
  public static final String POOL_RULE = "a pool name: " + Names.RULE;

  private MigrationRules() {}

  /**
   * The controller's per-host migration limit as {@code --max-migrations-per-host} gives it, checked
   * the same way by the controller and by {@code cluster up} (so a bad one never starts a controller).
   */
  public static int migrationsPerHost(String value) {
    String v = value == null ? "" : value.strip();
    int n = v.matches("\\d{1,3}") ? Integer.parseInt(v) : 0;
    if (n < 1 || n > MAX_MIGRATIONS_PER_HOST) {
      throw new RuleViolation("max-migrations-per-host", value, MIGRATIONS_PER_HOST_RULE);
    }
    return n;
  }

  /** Throws the first rule {@code r} breaks, in {@code s}'s words. */
  public static void checkLive(LiveMigrationRequest r, Spelling s) {
    Long downtime = r.maxDowntimeMs();
    if (downtime != null && (downtime < 1 || downtime > MAX_DOWNTIME_MS)) {
      throw new RuleViolation(s.field("max_downtime_ms"), downtime, DOWNTIME_RULE);
    }
    checkBandwidth(r.bandwidthMibS(), s);
    if (r.postcopy() != null && !POSTCOPY.contains(r.postcopy())) {
      throw new RuleViolation(s.field("postcopy"), r.postcopy(), POSTCOPY_RULE);
    }
    if (r.multifd() != null && (r.multifd() < 1 || r.multifd() > MAX_MULTIFD)) {
      throw new RuleViolation(s.field("multifd"), r.multifd(), MULTIFD_RULE);
    }
    String compress = r.compress() == null ? "none" : r.compress();
    if (!COMPRESS.contains(compress)) throw new RuleViolation(s.field("compress"), r.compress(), COMPRESS_RULE);
    String multifd = s.ref("multifd");
    if (compress.equals("zstd") && r.multifd() == null) {
      throw new RuleViolation(s.field("compress"), compress, "zstd only with " + multifd,
          s.field("compress") + " 'zstd' needs " + multifd + ": qemu compresses with zstd only on multifd channels;"
              + " give " + multifd + " or use xbzrle");
    }
    if (compress.equals("xbzrle") && r.multifd() != null) {
      throw new RuleViolation(s.field("compress"), compress, "none or zstd with " + multifd,
          s.field("compress") + " 'xbzrle' does not work with " + multifd + "; use zstd with " + multifd);
    }
    // qemu 7.2's capability check refused post-copy together with multifd (qemu-notes)
    if ("always".equals(r.postcopy()) && r.multifd() != null) {
      throw new RuleViolation(s.field("postcopy"), "always", "never or auto with " + multifd,
          s.field("postcopy") + " 'always' cannot be combined with " + multifd
              + ": qemu refuses post-copy on multifd channels");
    }
    if (r.targetPool() != null) {
      if (!Names.valid(r.targetPool())) throw new RuleViolation(s.field("target_pool"), r.targetPool(), POOL_RULE);
      if (!Boolean.TRUE.equals(r.copyStorage())) {
        throw new RuleViolation(s.field("target_pool"), r.targetPool(), "only with " + s.ref("copy_storage"),
            s.ref("target_pool") + " needs " + s.ref("copy_storage") + ": it names where copied disks go");
      }
    }
    if (r.timeoutMs() != null && r.timeoutMs() <= 0) {
      throw new RuleViolation(s.field("timeout_ms"), r.timeoutMs(), "more than 0 milliseconds");
    }
  }

  /** Throws the first rule {@code r} breaks, in {@code s}'s words. */
  public static void checkStorage(StorageMigrationRequest r, Spelling s) {
    if (!Names.valid(r.toPool())) throw new RuleViolation(s.field("to_pool"), r.toPool(), POOL_RULE);
    if (r.disks() != null) {
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < r.disks().size(); i++) {
        String d = r.disks().get(i);
        // the CLI's --disk is repeated; the API's disks is a list, so its messages say which element
        String field = s == Spelling.CLI ? "disk" : "disks[" + i + "]";
        if (d == null || d.isBlank()) throw new RuleViolation(field, d, "a disk id such as disk1");
        if (!seen.add(d)) {
          throw new RuleViolation(field, d, "each disk once", field + " '" + d + "' is given twice: name each disk once");
        }
      }
    }
    if (r.format() != null && !FORMATS.contains(r.format())) {
      throw new RuleViolation(s.field("format"), r.format(), FORMAT_RULE);
    }
    if (r.verify() != null && !VERIFY.contains(r.verify())) {
      throw new RuleViolation(s.field("verify"), r.verify(), VERIFY_RULE);
    }
    checkBandwidth(r.bandwidthMibS(), s);
    if (Boolean.TRUE.equals(r.adaptiveRate()) && r.bandwidthMibS() != null) {
      throw new RuleViolation(s.field("adaptive_rate"), true, ADAPTIVE_RULE);
    }
  }

  private static void checkBandwidth(Double mibS, Spelling s) {
    // NaN fails both comparisons, so it is refused too
    if (mibS != null && !(mibS > 0 && mibS <= MAX_BANDWIDTH_MIB_S)) {
      throw new RuleViolation(s.field("bandwidth_mib_s"), mibS, BANDWIDTH_RULE);
    }
  }
}
