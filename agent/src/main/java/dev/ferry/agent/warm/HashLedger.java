package dev.ferry.agent.warm;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.JsonFiles;
import dev.ferry.nbd.copy.ChunkHashes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The chunk hashes of one side of a warm migration, kept current pass by pass so that the
 * cutover hashes only what its final pass touched, not the whole disks, while the guest is down.
 *
 * <p>Why a kept hash is still true at the cutover: each side rehashes, after every pass, the
 * chunks that pass covered. The target's image changes only by passes. The source's disk changes
 * only by the guest, and a pass's chunks are hashed after the bitmap of the next pass started,
 * so a write that lands after (or during) the hashing is in that bitmap and its chunk is hashed
 * again by the next pass; the final pass runs after the guest powered off. What a kept hash does
 * not see is a change of the image by anything else than a pass or the guest (a disk going bad
 * on its own between its pass and the cutover).
 *
 * <p>A null hash is unknown: it is computed from the image when the cutover asks
 * ({@code ImageHashes.fill}), so a lost ledger costs time, never a wrong answer. Persisted as
 * {@code FILE} (JSON), written whole after each pass.
 *
 * @param pass the last pass whose chunks are hashed here (-1: none yet)
 */
record HashLedger(String migrationId, int pass, Map<String, Disk> disks) {

  /** One disk: its chunk size and a hash per chunk (null: unknown). */
  record Disk(long chunkBytes, List<String> sha256) {}

  /** Every chunk unknown; the chunk size from {@link ChunkHashes#keptChunk}. */
  static HashLedger unknown(String migrationId, Map<String, Long> sizes) {
    Map<String, Disk> disks = new LinkedHashMap<>();
    sizes.forEach((disk, size) -> {
      long chunk = ChunkHashes.keptChunk(size);
      disks.put(disk, new Disk(chunk, new ArrayList<>(Collections.nCopies(ChunkHashes.count(size, chunk), null))));
    });
    return new HashLedger(migrationId, -1, disks);
  }

  long chunkBytes(String disk) {
    return require(disk).chunkBytes();
  }

  int chunks(String disk) {
    return require(disk).sha256().size();
  }

  /** A copy with these chunks' hashes set and {@code pass} as the last hashed pass. */
  HashLedger with(int newPass, Map<String, Map<Integer, String>> hashes) {
    Map<String, Disk> out = new LinkedHashMap<>();
    disks.forEach((disk, d) -> {
      List<String> sha = new ArrayList<>(d.sha256());
      hashes.getOrDefault(disk, Map.of()).forEach(sha::set);
      out.put(disk, new Disk(d.chunkBytes(), sha));
    });
    return new HashLedger(migrationId, newPass, out);
  }

  /** A copy with every hash unknown: the next cutover hashes the disks whole. */
  HashLedger forgotten() {
    Map<String, Disk> out = new LinkedHashMap<>();
    disks.forEach((disk, d) -> out.put(disk, new Disk(d.chunkBytes(),
        new ArrayList<>(Collections.nCopies(d.sha256().size(), null)))));
    return new HashLedger(migrationId, -1, out);
  }

  /** The known hashes of a disk, null entries unknown; for {@code ImageHashes.fill}. */
  List<String> known(String disk) {
    return require(disk).sha256();
  }

  long unknownChunks() {
    return disks.values().stream().flatMap(d -> d.sha256().stream()).filter(h -> h == null).count();
  }

  private Disk require(String disk) {
    Disk d = disks.get(disk);
    if (d == null) throw new AgentException(Kind.INTERNAL, "hash ledger of " + migrationId + " has no disk " + disk);
    return d;
  }

  static Optional<HashLedger> read(Path file) {
    return Files.exists(file) ? Optional.of(JsonFiles.read(file, HashLedger.class)) : Optional.empty();
  }

  void write(Path file) {
    JsonFiles.write(file, this);
  }

  static void delete(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot remove hash ledger " + file + ": " + e.getMessage(), e);
    }
  }
}
