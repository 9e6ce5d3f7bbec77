package dev.ferry.api.agent;

import java.util.List;
import java.util.Map;

/**
 * {@code PUT /agent/vms/NAME/incoming}: prepare this host to receive a live migration.
 *
 * @param definition       the VM as the source defined it, with the source's resolved (versioned)
 *                         machine type, e.g. {@code pc-q35-7.2}; an alias is refused
 * @param memoryGivenBytes the RAM the source's QEMU was given ({@code memory_given_bytes} of its
 *                         {@link AgentVmStatus}); the target gives its QEMU exactly this size
 * @param capabilities     {@code migrate-set-capabilities} on the target, set before
 *                         {@code migrate-incoming} ({@code events} is always on)
 * @param parameters       {@code migrate-set-parameters} on the target, e.g. {@code multifd-channels}
 * @param copyStorage      disks copied to this host; empty for shared storage (the definition's
 *                         paths then name the same files)
 * @param sourceHost       the host the VM comes from: a target with TLS lets only that host's
 *                         certificate feed the migration stream and write the NBD exports;
 *                         required by such a target
 * @param resumeOnArrival  true: run the guest the moment this QEMU completed the incoming
 *                         migration (its {@code MIGRATION completed} event), as finish would,
 *                         without waiting for the finish call, which then only reports; null or
 *                         false: the completed target stays paused until finish (to look at it
 *                         first). Post-copy always resumes at the switch.
 */
public record IncomingRequest(
    String migrationId,
    AgentVmDefinition definition,
    long memoryGivenBytes,
    Map<String, Boolean> capabilities,
    Map<String, Object> parameters,
    List<CopyStorageDisk> copyStorage,
    String sourceHost,
    Boolean resumeOnArrival) {

  /** Without resume on arrival: the completed target waits for finish. */
  public IncomingRequest(String migrationId, AgentVmDefinition definition, long memoryGivenBytes,
      Map<String, Boolean> capabilities, Map<String, Object> parameters, List<CopyStorageDisk> copyStorage,
      String sourceHost) {
    this(migrationId, definition, memoryGivenBytes, capabilities, parameters, copyStorage, sourceHost, null);
  }

  /** Without a source host: for targets without TLS. */
  public IncomingRequest(String migrationId, AgentVmDefinition definition, long memoryGivenBytes,
      Map<String, Boolean> capabilities, Map<String, Object> parameters, List<CopyStorageDisk> copyStorage) {
    this(migrationId, definition, memoryGivenBytes, capabilities, parameters, copyStorage, null);
  }
}
