package dev.ferry.api.agent;

/**
 * {@code GET|POST /agent/vms/NAME/dirty-rate}: the source QEMU's last {@code calc-dirty-rate}
 * measurement (page sampling), as {@code query-dirty-rate} reports it.
 *
 * @param status       {@code unstarted}, {@code measuring} or {@code measured}
 * @param mibPerS      distinct pages dirtied per second × page size, in MiB/s; null until measured
 * @param calcTimeS    how long QEMU measures (measured), in seconds
 * @param ageMs        since this agent started the measurement; null when it did not (another
 *                     client, or before the agent's restart), so its age is unknown
 * @param residentBytes how much of the guest's RAM its QEMU holds in memory now (the rest was
 *                     never touched: pre-copy sends it as zero pages); null when not known
 */
public record DirtyRate(String status, Long mibPerS, long calcTimeS, Long ageMs, Long residentBytes) {

  /** A measurement without the resident size (agents before it, tests). */
  public DirtyRate(String status, Long mibPerS, long calcTimeS, Long ageMs) {
    this(status, mibPerS, calcTimeS, ageMs, null);
  }

  public static final String MEASURED = "measured";
  public static final String MEASURING = "measuring";

  public boolean measured() {
    return MEASURED.equals(status) && mibPerS != null;
  }
}
