package dev.ferry.api.agent;

import java.util.List;

/**
 * {@code PUT /agent/warm-copies/ID}: the target makes the new images of a warm migration (sizes and
 * formats from the source's {@code source} export); passes are then started one by one with
 * {@link WarmPassCopy}. A repeat answers the copy as it stands.
 *
 * @param bandwidthBytes cap over all disks and connections, bytes per second; 0 for none
 */
public record WarmCopyRequest(String vm, ColdExport source, List<ColdCopyRequest.Disk> disks, long bandwidthBytes) {}
