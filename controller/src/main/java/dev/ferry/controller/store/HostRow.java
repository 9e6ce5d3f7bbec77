package dev.ferry.controller.store;

import dev.ferry.api.HostState;
import java.time.Instant;

/** A host as stored: what its last heartbeat said plus the liveness the controller derived. */
public record HostRow(
    String name,
    String url,
    HostState state,
    Instant lastHeartbeat,
    int cpus,
    long memoryBytes,
    String qemuVersion,
    String accelerator) {

  public HostRow withState(HostState next) {
    return new HostRow(name, url, next, lastHeartbeat, cpus, memoryBytes, qemuVersion, accelerator);
  }

  public HostRow withLastHeartbeat(Instant at) {
    return new HostRow(name, url, state, at, cpus, memoryBytes, qemuVersion, accelerator);
  }
}
