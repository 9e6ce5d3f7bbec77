package dev.ferry.qmp.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.Members;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * {@code query-migrate}: the state and statistics of the current or last migration, on either
 * side. Every member is optional in QEMU's answer: before any migration QEMU 7.2 returns
 * {@code {}}, a cancelled one only {@code {status: cancelled}}, and the destination reports
 * little besides the status; the parse never fails on a missing member.
 *
 * <p>QEMU's times are not always trustworthy (a completed migration was once seen with
 * total-time = downtime = 0): measure wall time on the control-plane side too.
 */
public record QueryMigrate() implements QmpCommand<QueryMigrate.MigrationInfo> {

  @Override
  public String name() {
    return "query-migrate";
  }

  @Override
  public MigrationInfo parse(JsonNode ret) {
    if (!ret.isObject()) {
      throw new IllegalArgumentException("query-migrate return is not an object");
    }
    return new MigrationInfo(
        Members.optionalText(ret, "status").orElse(MigrationInfo.NONE),
        Members.optionalInteger64(ret, "total-time"),
        Members.optionalInteger64(ret, "downtime"),
        Members.optionalInteger64(ret, "expected-downtime"),
        Members.optionalInteger64(ret, "setup-time"),
        Members.optionalObject(ret, "ram").map(MigrationStats::parse),
        Members.optionalObject(ret, "disk").map(MigrationStats::parse),
        Members.optionalObject(ret, "xbzrle-cache").map(XbzrleCacheStats::parse),
        Members.optionalInteger64(ret, "cpu-throttle-percentage"),
        Members.optionalText(ret, "error-desc"),
        Members.optionalList(ret, "socket-address", SocketAddress::parse));
  }

  /**
   * QAPI {@code MigrationInfo}.
   *
   * @param status QAPI {@code MigrationStatus}: {@code none} (also when QEMU leaves the member
   *     out), {@code setup}, {@code active}, {@code pre-switchover}, {@code device},
   *     {@code postcopy-active}, {@code postcopy-paused}, {@code postcopy-recover},
   *     {@code completed}, {@code failed}, {@code cancelling}, {@code cancelled},
   *     {@code colo}, {@code wait-unplug}
   * @param totalTime ms since the migration started (until it ended, once it has)
   * @param downtime ms the guest was stopped, once completed
   * @param expectedDowntime ms the switchover would take now, while active
   * @param setupTime ms spent in {@code setup}
   * @param ram RAM statistics, once past {@code setup}
   * @param disk statistics of the deprecated block migration, when used
   * @param xbzrleCache XBZRLE statistics, with the {@code xbzrle} capability
   * @param cpuThrottlePercentage the guest CPU throttle, with {@code auto-converge} once it acts
   * @param errorDesc why the migration failed, when it has
   * @param socketAddress where an incoming migration listens (QEMU 7.1+), with the port QEMU
   *     bound when asked for port 0; empty on the source and before {@code migrate-incoming}
   */
  public record MigrationInfo(String status, OptionalLong totalTime, OptionalLong downtime,
      OptionalLong expectedDowntime, OptionalLong setupTime, Optional<MigrationStats> ram,
      Optional<MigrationStats> disk, Optional<XbzrleCacheStats> xbzrleCache,
      OptionalLong cpuThrottlePercentage, Optional<String> errorDesc, List<SocketAddress> socketAddress) {

    public MigrationInfo {
      socketAddress = List.copyOf(socketAddress);
    }

    /** The status when no migration has run. */
    public static final String NONE = "none";

    /** What QEMU answers before any migration: {@code {}}. */
    public static MigrationInfo none() {
      return new MigrationInfo(NONE, OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(),
          OptionalLong.empty(), Optional.empty(), Optional.empty(), Optional.empty(), OptionalLong.empty(),
          Optional.empty(), List.of());
    }
  }

  /**
   * QAPI {@code SocketAddress} as {@code query-migrate} lists it; the port is a string in QAPI.
   *
   * @param type {@code inet}, {@code unix}, {@code vsock} or {@code fd}
   * @param host the host of an {@code inet} address, else empty
   * @param port the port of an {@code inet} address, else empty
   */
  public record SocketAddress(String type, Optional<String> host, OptionalInt port) {

    static SocketAddress parse(JsonNode node) {
      OptionalInt port = Members.optionalText(node, "port").map(p -> {
        try {
          return OptionalInt.of(Integer.parseInt(p));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("query-migrate socket-address port is not a number: " + p, e);
        }
      }).orElse(OptionalInt.empty());
      return new SocketAddress(Members.text(node, "type"), Members.optionalText(node, "host"), port);
    }
  }

  /**
   * QAPI {@code MigrationStats}. A counter QEMU leaves out reads as 0 (the disk statistics, for
   * one, carry only transferred, remaining and total).
   *
   * @param transferred bytes sent
   * @param remaining bytes left in this pass
   * @param total guest RAM in bytes
   * @param duplicate zero pages sent as a marker only
   * @param normal pages sent in full
   * @param normalBytes bytes of pages sent in full
   * @param dirtyPagesRate pages dirtied per second, as of the last pass
   * @param mbps throughput in megabits per second
   * @param dirtySyncCount passes so far (bitmap syncs)
   * @param postcopyRequests pages the destination requested during post-copy
   * @param pageSize target page size in bytes
   * @param multifdBytes bytes sent over multifd channels
   * @param pagesPerSecond pages sent per second
   * @param precopyBytes bytes sent during pre-copy
   * @param downtimeBytes bytes sent while the guest was stopped
   * @param postcopyBytes bytes sent during post-copy
   */
  public record MigrationStats(long transferred, long remaining, long total, long duplicate,
      long normal, long normalBytes, long dirtyPagesRate, double mbps, long dirtySyncCount,
      long postcopyRequests, long pageSize, long multifdBytes, long pagesPerSecond,
      long precopyBytes, long downtimeBytes, long postcopyBytes) {

    static MigrationStats parse(JsonNode s) {
      return new MigrationStats(count(s, "transferred"), count(s, "remaining"),
          count(s, "total"), count(s, "duplicate"), count(s, "normal"),
          count(s, "normal-bytes"), count(s, "dirty-pages-rate"),
          Members.optionalNumber(s, "mbps").orElse(0), count(s, "dirty-sync-count"),
          count(s, "postcopy-requests"), count(s, "page-size"), count(s, "multifd-bytes"),
          count(s, "pages-per-second"), count(s, "precopy-bytes"), count(s, "downtime-bytes"),
          count(s, "postcopy-bytes"));
    }
  }

  /**
   * QAPI {@code XBZRLECacheStats}; absent counters read as 0.
   *
   * @param cacheSize cache size in bytes
   * @param bytes bytes sent XBZRLE-encoded
   * @param pages pages sent XBZRLE-encoded
   * @param cacheMiss pages not found in the cache
   * @param cacheMissRate the share of cache misses, 0 to 1
   * @param encodingRate the compression rate
   * @param overflow pages whose encoding overflowed and were sent in full
   */
  public record XbzrleCacheStats(long cacheSize, long bytes, long pages, long cacheMiss,
      double cacheMissRate, double encodingRate, long overflow) {

    static XbzrleCacheStats parse(JsonNode s) {
      return new XbzrleCacheStats(count(s, "cache-size"), count(s, "bytes"), count(s, "pages"),
          count(s, "cache-miss"), Members.optionalNumber(s, "cache-miss-rate").orElse(0),
          Members.optionalNumber(s, "encoding-rate").orElse(0), count(s, "overflow"));
    }
  }

  private static long count(JsonNode stats, String name) {
    return Members.optionalInteger64(stats, name).orElse(0);
  }
}
