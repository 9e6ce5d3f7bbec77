package dev.ferry.api.agent;

import java.util.List;

/**
 * How a target's cold copy stands.
 *
 * @param state {@code copying}, {@code copied}, {@code failed} or {@code cancelled}
 * @param copiedBytes bytes read from the source and written, all disks
 * @param skippedBytes bytes that read as zero at the source and were not sent
 * @param totalBytes the disks' virtual sizes together
 * @param plannedBytes bytes the copy sends when done (the source's data), known once planned
 * @param disks the new images, with their paths and formats
 * @param error what failed, for {@code failed}
 */
public record ColdCopyStatus(String migrationId, String state, long copiedBytes, long skippedBytes,
    long totalBytes, long plannedBytes, List<AgentDisk> disks, String error) {

  public static final String COPYING = "copying";
  public static final String COPIED = "copied";
  public static final String FAILED = "failed";
  public static final String CANCELLED = "cancelled";
}
