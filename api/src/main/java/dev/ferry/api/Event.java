package dev.ferry.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/**
 * One state change on {@code /api/events} (server-sent events; the SSE event name is
 * {@code kind}, e.g. {@code host.state}, {@code vm.state}, {@code vm.created}, {@code vm.deleted}).
 * A replay that asks for pruned events starts with {@code replay.gap}, which is never stored: its id
 * is the last pruned id and its data names {@code first_available_id}.
 */
public record Event(long id, Instant time, String kind, String subject, JsonNode data) {}
