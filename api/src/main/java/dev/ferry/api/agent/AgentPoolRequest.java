package dev.ferry.api.agent;

/** {@code PUT /agent/pools/NAME}: the agent creates the directory if needed and remembers the pool. */
public record AgentPoolRequest(String path, boolean shared) {}
