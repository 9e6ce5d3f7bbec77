package dev.ferry.api;

/**
 * A NIC of {@link VmCreateRequest}: {@code --nic NETWORK[,mac=MAC]}. Without a MAC the controller
 * assigns a locally administered unicast one, unique in the cluster.
 */
public record NicRequest(String network, String mac) {}
