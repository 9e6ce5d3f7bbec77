package dev.ferry.api.agent;

import java.util.List;

/**
 * How a target's warm copy stands.
 *
 * @param state {@code ready} (images made, no pass yet), {@code copying} (pass {@code pass} runs),
 *     {@code copied} (pass {@code pass} is done), {@code failed}, {@code cancelled}
 * @param pass the pass started last, -1 before the first
 * @param copiedBytes bytes read from the source and written, all passes and disks
 * @param skippedBytes bytes that read as zero at the source and were not sent, all passes
 * @param passCopiedBytes bytes sent by the current pass so far
 * @param passPlannedBytes bytes the current pass sends when done, once planned
 * @param passMs how long the current pass took, once done
 */
public record WarmCopyStatus(String migrationId, String state, int pass, long copiedBytes, long skippedBytes,
    long passCopiedBytes, long passPlannedBytes, Long passMs, List<AgentDisk> disks, String error) {

  public static final String READY = "ready";
  public static final String COPYING = "copying";
  public static final String COPIED = "copied";
  public static final String FAILED = "failed";
  public static final String CANCELLED = "cancelled";
}
