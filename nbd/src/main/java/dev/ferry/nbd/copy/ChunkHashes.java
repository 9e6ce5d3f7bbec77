package dev.ferry.nbd.copy;

import dev.ferry.nbd.Extent;
import dev.ferry.nbd.MetaContexts;
import dev.ferry.nbd.NbdClient;
import dev.ferry.nbd.NbdException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * SHA-256 of each fixed-size chunk of an export's virtual disk, computed next to the data: each
 * host hashes its own image through a local NBD export, and only the hashes cross the network.
 * Ranges that read as zero ({@code base:allocation} {@code STATE_ZERO}) are hashed as zero bytes
 * without being read, so a hole on one side and written zeroes on the other hash alike, and a
 * chunk that is all zero costs nothing (its hash is computed once per size).
 */
public final class ChunkHashes {

  /** 64 MiB: a mismatch names a range small enough to look at, a 1 TiB disk has 16 Ki hashes. */
  public static final long DEFAULT_CHUNK = 64L << 20;

  /** buffer size {@link #compute} reads with */
  public static final int READ = 4 << 20;
  static final int MAX_KEPT = 16384;
  private static final Map<Long, String> ZERO_HASHES = new ConcurrentHashMap<>();

  private ChunkHashes() {}

  /**
   * The hex SHA-256 of each chunk of {@code client}'s export, in order; the last chunk may be
   * short. The client must have negotiated {@link MetaContexts#BASE_ALLOCATION}.
   */
  public static List<String> compute(NbdClient client, long chunkSize) throws NbdException {
    List<String> hashes = new ArrayList<>();
    ByteBuffer buffer = ByteBuffer.allocateDirect(READ);
    for (long i = 0; i * chunkSize < client.size(); i++) {
      hashes.add(chunk(client, i, chunkSize, buffer));
    }
    return List.copyOf(hashes);
  }

  /** The hex SHA-256 of chunk {@code index} alone, as {@link #compute} hashes it. */
  public static String chunk(NbdClient client, long index, long chunkSize, ByteBuffer buffer) throws NbdException {
    long chunk = index * chunkSize;
    long end = Math.min(client.size(), chunk + chunkSize);
    List<Extent> extents = client.blockStatus(chunk, end - chunk, MetaContexts.BASE_ALLOCATION);
    if (extents.size() == 1 && extents.getFirst().has(MetaContexts.STATE_ZERO)) {
      return zeroHash(end - chunk);
    }
    MessageDigest sha = sha256();
    for (Extent e : extents) {
      if (e.has(MetaContexts.STATE_ZERO)) {
        feedZeroes(sha, e.length());
        continue;
      }
      for (long at = e.offset(); at < e.end(); at += buffer.capacity()) {
        buffer.clear().limit((int) Math.min(buffer.capacity(), e.end() - at));
        client.read(at, buffer);
        sha.update(buffer.flip());
      }
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  /**
   * The hex SHA-256 of chunk {@code index} of a raw image read straight from its file (holes read
   * as zeroes): the same hash as through an export of it.
   */
  public static String fileChunk(FileChannel file, long size, long index, long chunkSize, ByteBuffer buffer)
      throws IOException {
    long end = Math.min(size, index * chunkSize + chunkSize);
    MessageDigest sha = sha256();
    for (long at = index * chunkSize; at < end; ) {
      buffer.clear().limit((int) Math.min(buffer.capacity(), end - at));
      int n = file.read(buffer, at);
      if (n < 0) {
        // a file shorter than its virtual size reads as zeroes past its end
        feedZeroes(sha, end - at);
        break;
      }
      sha.update(buffer.flip());
      at += n;
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  /**
   * The chunk size of a disk whose hashes are kept current pass by pass (a warm migration): small,
   * so that a cutover rehashes little more than the guest wrote, and at most {@value #MAX_KEPT}
   * chunks, so that the list stays a few hundred KiB for any disk.
   */
  public static long keptChunk(long size) {
    long chunk = 1L << 20;
    while (count(size, chunk) > MAX_KEPT) {
      chunk <<= 1;
    }
    return chunk;
  }

  /** The chunks of {@code chunkSize} that the ranges {@code [offset, end)} touch. */
  public static BitSet touched(List<long[]> ranges, long chunkSize) {
    BitSet out = new BitSet();
    for (long[] r : ranges) {
      if (r[1] <= r[0]) {
        continue;
      }
      out.set((int) (r[0] / chunkSize), (int) ((r[1] - 1) / chunkSize) + 1);
    }
    return out;
  }

  /** How many chunks of {@code chunkSize} a disk of {@code size} bytes has. */
  public static int count(long size, long chunkSize) {
    return (int) ((size + chunkSize - 1) / chunkSize);
  }

  /** The index of the first chunk that differs (or exists on one side only), or -1. */
  public static int firstMismatch(List<String> a, List<String> b) {
    for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
      if (i >= a.size() || i >= b.size() || !a.get(i).equals(b.get(i))) {
        return i;
      }
    }
    return -1;
  }

  private static String zeroHash(long length) {
    return ZERO_HASHES.computeIfAbsent(length, n -> {
      MessageDigest sha = sha256();
      feedZeroes(sha, n);
      return HexFormat.of().formatHex(sha.digest());
    });
  }

  private static void feedZeroes(MessageDigest sha, long length) {
    byte[] zeroes = new byte[(int) Math.min(length, 1 << 20)];
    for (long left = length; left > 0; left -= zeroes.length) {
      sha.update(zeroes, 0, (int) Math.min(left, zeroes.length));
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
