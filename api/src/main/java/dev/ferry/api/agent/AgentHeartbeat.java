package dev.ferry.api.agent;

import dev.ferry.api.PoolView;
import java.util.List;

/**
 * {@code POST /api/agents/heartbeat}, every few seconds from each agent. The first one registers
 * the host; each one replaces what the controller knows of the host's resources and VM states.
 */
public record AgentHeartbeat(
    String name,
    String url,
    int cpus,
    long memoryBytes,
    String qemuVersion,
    String accelerator,
    List<PoolView> pools,
    List<AgentVmStatus> vms) {}
