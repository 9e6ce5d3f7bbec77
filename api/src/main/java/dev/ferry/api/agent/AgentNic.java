package dev.ferry.api.agent;

/**
 * A NIC of {@link AgentVmDefinition}: a virtio-net device with {@code mac} on a tap the agent
 * creates and attaches to {@code bridge}. The tap's name is the agent's ({@link dev.ferry.api.TapNames}).
 *
 * @param vnetHdr whether the tap carries virtio-net headers (the default, null); COLO's network
 *                filters need plain frames, false
 */
public record AgentNic(String network, String bridge, String mac, Boolean vnetHdr) {}
