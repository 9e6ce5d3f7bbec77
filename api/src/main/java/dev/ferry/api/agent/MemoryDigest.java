package dev.ferry.api.agent;

/**
 * {@code GET /agent/vms/NAME/memory-digest}: a digest of every page of a paused guest's RAM
 * ({@code pmemsave} from physical address 0), to compare a migration's source and target page by
 * page. Only a guest whose vCPUs are stopped can be digested.
 *
 * @param pageDigests base64 of 8 bytes per page, in page order
 */
public record MemoryDigest(String vm, long sizeBytes, int pageSize, String algorithm, String pageDigests) {}
