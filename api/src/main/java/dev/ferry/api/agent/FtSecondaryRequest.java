package dev.ferry.api.agent;

import java.util.List;

/**
 * {@code PUT /agent/vms/NAME/ft-secondary}: build the COLO secondary of a VM on this host (issue
 * 12): an empty replica of each disk in {@code replicas}' pool, the two overlays of the
 * replication chain, and a paused QEMU with the primary's device model listening for COLO. A
 * repeat answers the secondary already built.
 *
 * @param definition       the VM as the primary defined it (resolved machine type, same MACs)
 * @param memoryGivenBytes the RAM the primary's QEMU was given; the secondary gets exactly this
 * @param replicas         one per disk of the definition: the pool, format and virtual size of its replica
 * @param primaryHost      the host the primary runs on (for the record and the logs)
 */
public record FtSecondaryRequest(AgentVmDefinition definition, long memoryGivenBytes, List<CopyStorageDisk> replicas,
    String primaryHost) {}
