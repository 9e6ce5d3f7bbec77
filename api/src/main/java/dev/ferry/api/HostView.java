package dev.ferry.api;

import java.time.Instant;
import java.util.List;

/**
 * A host as the controller knows it. Memory figures are bytes; committed = given to defined VMs.
 * {@code acceleratorProbe}, {@code cpuFlags} and {@code cpuModels} come from the host's latest
 * heartbeat (null until one arrived since the controller started), and so does {@code ft}, the
 * host's fault-tolerance capability (null from agents before issue 12).
 */
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
    String accelerator,
    String acceleratorProbe,
    List<String> cpuFlags,
    List<String> cpuModels,
    FtView ft) {

  public HostView(String name, String url, HostState state, Instant lastHeartbeat, int cpus, int cpusCommitted,
      long memoryBytes, long memoryCommittedBytes, String qemuVersion, String accelerator, String acceleratorProbe,
      List<String> cpuFlags, List<String> cpuModels) {
    this(name, url, state, lastHeartbeat, cpus, cpusCommitted, memoryBytes, memoryCommittedBytes, qemuVersion,
        accelerator, acceleratorProbe, cpuFlags, cpuModels, null);
  }

  public HostView(String name, String url, HostState state, Instant lastHeartbeat, int cpus, int cpusCommitted,
      long memoryBytes, long memoryCommittedBytes, String qemuVersion, String accelerator) {
    this(name, url, state, lastHeartbeat, cpus, cpusCommitted, memoryBytes, memoryCommittedBytes, qemuVersion,
        accelerator, null, null, null, null);
  }

  public long memoryFreeBytes() {
    return Math.max(0, memoryBytes - memoryCommittedBytes);
  }
}
