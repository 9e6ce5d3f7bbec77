package dev.ferry.api.agent;

import java.util.List;

/**
 * The SHA-256 of each {@code chunkBytes} chunk of one disk's virtual contents (holes and zeroes
 * hashed as zero bytes), computed by the host that holds the image; two hosts' lists are
 * compared by the controller, so no image crosses the network to be verified.
 */
public record DiskHashes(String disk, long chunkBytes, List<String> sha256) {}
