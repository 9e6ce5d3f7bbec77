package dev.ferry.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/**
 * One state change on {@code /api/events} (server-sent events; the SSE event name is
 * {@code kind}, e.g. {@code host.state}, {@code vm.state}, {@code vm.created}, {@code vm.deleted}).
 */
public record Event(long id, Instant time, String kind, String subject, JsonNode data) {}
