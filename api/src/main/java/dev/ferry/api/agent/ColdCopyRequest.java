package dev.ferry.api.agent;

import java.util.List;

/**
 * {@code PUT /agent/cold-copies/ID}: the target pulls a stopped VM's disks from the source's
 * {@link ColdExport} into new images in its pools; a repeat answers the copy under way.
 *
 * @param vm the VM, for image names and the log
 * @param source the source export
 * @param bandwidthBytes cap over all disks and connections, bytes per second; 0 for none
 */
public record ColdCopyRequest(String vm, ColdExport source, List<Disk> disks, long bandwidthBytes) {

  /** One disk: where it goes on the target and in which format. */
  public record Disk(String disk, String pool, String format) {}
}
