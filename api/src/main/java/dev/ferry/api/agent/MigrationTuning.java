package dev.ferry.api.agent;

import java.util.Map;

/**
 * {@code POST /agent/vms/NAME/outgoing/parameters}: QEMU migration parameters changed while
 * pre-copy runs (the controller's escalation, e.g. a steeper auto-converge throttle).
 *
 * @param parameters {@code migrate-set-parameters} names and values, e.g. {@code cpu-throttle-increment: 25}
 */
public record MigrationTuning(Map<String, Object> parameters) {}
