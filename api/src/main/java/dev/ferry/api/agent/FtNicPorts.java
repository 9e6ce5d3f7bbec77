package dev.ferry.api.agent;

/**
 * Where a COLO secondary hears the primary's network proxy for one NIC (same address as its
 * other ports): the primary's {@code filter-mirror} sends every frame its guest receives to
 * {@code mirrorPort}, and colo-compare reads the secondary guest's frames from
 * {@code comparePort}.
 */
public record FtNicPorts(int mirrorPort, int comparePort) {}
