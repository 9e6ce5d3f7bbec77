package dev.ferry.api;

import java.time.Instant;

/** A host as the controller knows it. Memory figures are bytes; committed = given to defined VMs. */
public record HostView(
    String name,
    String url,
    HostState state,
    Instant lastHeartbeat,
    int cpus,
    int cpusCommitted,
    long memoryBytes,
    long memoryCommittedBytes,
    String qemuVersion,
    String accelerator) {

  public long memoryFreeBytes() {
    return Math.max(0, memoryBytes - memoryCommittedBytes);
  }
}
