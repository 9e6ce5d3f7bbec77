package dev.ferry.api;

/**
 * {@code GET /api/vms/NAME/console}: serial console text from byte {@code offset} of the log on
 * {@code host}; ask again with {@code next_offset} to follow it.
 */
public record ConsoleChunk(String host, long offset, long nextOffset, String text) {}
