package dev.ferry.api.agent;

/** A disk in a VM definition sent to an agent; the agent refuses a path outside its pools. */
public record AgentDisk(String id, String path, String format) {}
