package dev.ferry.api;

/**
 * {@code POST /api/networks}: {@code ferry network create NAME --bridge BRIDGE}. The bridge is an
 * existing Linux bridge present under this name on every host that is to run the network's VMs.
 */
public record NetworkCreateRequest(String name, String bridge) {}
