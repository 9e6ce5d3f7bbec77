package dev.ferry.api;

import java.util.List;

/**
 * A network: an L2 segment present on every host under one bridge name, like a shared pool.
 *
 * @param hosts the online hosts whose latest heartbeat reports the bridge; a VM on this network
 *              migrates only to these
 */
public record NetworkView(String name, String bridge, List<String> hosts) {}
