package dev.ferry.agent.warm;

import dev.ferry.nbd.MetaContexts;
import dev.ferry.nbd.NbdAddress;
import dev.ferry.nbd.NbdClient;
import dev.ferry.nbd.NbdException;
import dev.ferry.nbd.copy.ChunkHashes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The hashes of the chunks a pass wrote, read back from the new image by a few readers at once:
 * the final pass's hashing is downtime, and one reader left a core idle while it hashed (a
 * cutover's ~12 chunks of 1 MiB: 14-15 ms with one). Each reader has its own file descriptor or
 * NBD connection to the writer.
 */
final class WrittenChunks {

  /** At most this many readers: SHA-256 is the work, and one per core is all it can use. */
  static final int MAX_READERS = 4;

  /** How a reader reads a chunk; one per reader, closed after its last. */
  private interface Reader extends AutoCloseable {
    String hash(int chunk) throws IOException, NbdException;

    @Override
    void close() throws IOException;
  }

  private WrittenChunks() {}

  /**
   * The hex SHA-256 of each chunk in {@code chunks}, read from the raw file {@code file} when
   * {@code socket} is null, else from the export {@code export} of the writer on {@code socket}.
   *
   * @throws CancellationException when {@code cancelled} turns true
   */
  static Map<Integer, String> hash(BitSet chunks, long size, long chunkBytes, Path file, Path socket, String export,
      BooleanSupplier cancelled) throws IOException, NbdException, InterruptedException {
    int[] todo = chunks.stream().toArray();
    Map<Integer, String> out = new ConcurrentHashMap<>();
    if (todo.length == 0) return out;
    int readers = Math.min(todo.length, Math.min(MAX_READERS, Runtime.getRuntime().availableProcessors()));
    AtomicInteger next = new AtomicInteger();
    Throwable[] failures = new Throwable[readers];
    List<Thread> threads = new ArrayList<>();
    for (int r = 0; r < readers; r++) {
      int k = r;
      threads.add(Thread.ofPlatform().name("ferry-hash-" + r).start(() -> {
        try (Reader reader = open(size, chunkBytes, file, socket, export)) {
          for (int i = next.getAndIncrement(); i < todo.length; i = next.getAndIncrement()) {
            if (cancelled.getAsBoolean()) throw new CancellationException();
            out.put(todo[i], reader.hash(todo[i]));
          }
        } catch (Throwable t) {
          failures[k] = t;
          next.set(todo.length); // the others stop at their next chunk
        }
      }));
    }
    for (Thread t : threads) t.join();
    for (Throwable t : failures) {
      // NbdException and CancellationException are runtime exceptions: rethrown as they are
      if (t instanceof IOException io) throw io;
      if (t instanceof RuntimeException re) throw re;
      if (t instanceof Error e) throw e;
      if (t != null) throw new IOException("hashing the written chunks failed: " + t, t);
    }
    return out;
  }

  private static Reader open(long size, long chunkBytes, Path file, Path socket, String export)
      throws IOException, NbdException {
    ByteBuffer buffer = ByteBuffer.allocateDirect((int) Math.min(ChunkHashes.READ, chunkBytes));
    if (socket == null) {
      FileChannel f = FileChannel.open(file, StandardOpenOption.READ);
      return new Reader() {
        @Override
        public String hash(int chunk) throws IOException {
          return ChunkHashes.fileChunk(f, size, chunk, chunkBytes, buffer);
        }

        @Override
        public void close() throws IOException {
          f.close();
        }
      };
    }
    NbdClient c = NbdClient.connect(NbdAddress.unix(socket), export, List.of(MetaContexts.BASE_ALLOCATION));
    return new Reader() {
      @Override
      public String hash(int chunk) throws NbdException {
        return ChunkHashes.chunk(c, chunk, chunkBytes, buffer);
      }

      @Override
      public void close() {
        c.close();
      }
    };
  }
}
