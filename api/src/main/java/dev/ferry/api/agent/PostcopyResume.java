package dev.ferry.api.agent;

/**
 * {@code POST /agent/vms/NAME/outgoing/resume}: reconnect a paused post-copy.
 *
 * @param migrationUri what the target's {@code POST incoming/recover} answered, e.g. {@code tcp:10.0.0.2:49160}
 */
public record PostcopyResume(String migrationUri) {}
