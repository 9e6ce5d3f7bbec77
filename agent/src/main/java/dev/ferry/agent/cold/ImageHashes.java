package dev.ferry.agent.cold;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.Subprocess;
import dev.ferry.api.agent.DiskHashes;
import dev.ferry.nbd.MetaContexts;
import dev.ferry.nbd.NbdAddress;
import dev.ferry.nbd.NbdClient;
import dev.ferry.nbd.NbdException;
import dev.ferry.nbd.copy.ChunkHashes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Chunk hashes of an image on this host ({@link ChunkHashes}): a short-lived read-only
 * {@code qemu-storage-daemon} on a private UNIX socket serves it, so every format hashes by its
 * virtual contents and both hosts of a copy compute them the same way.
 */
public final class ImageHashes {

  private final Path daemon;
  private final Path qemuImg;

  public ImageHashes(Path daemon, Path qemuImg) {
    this.daemon = daemon;
    this.qemuImg = qemuImg;
  }

  Path qemuImg() {
    return qemuImg;
  }

  public DiskHashes of(String disk, Path image, String format) {
    return fill(disk, image, format, ChunkHashes.DEFAULT_CHUNK, null);
  }

  /**
   * The hashes of {@code chunkBytes} chunks of an image, taking the {@code known} ones as they are
   * (null: none known) and computing the others (null entries) from the image.
   */
  public DiskHashes fill(String disk, Path image, String format, long chunkBytes, List<String> known) {
    if (known != null && known.stream().noneMatch(java.util.Objects::isNull)) return new DiskHashes(disk, chunkBytes, known);
    Path tmp = privateDir();
    Path socket = tmp.resolve("h.sock");
    Path pidFile = tmp.resolve("h.pid");
    Process p = NbdDaemon.start(NbdDaemon.serve(daemon, pidFile, new NbdDaemon.Listen.Unix(socket),
        List.of(new NbdDaemon.Image("disk", image, format, false)), null), new NbdDaemon.Listen.Unix(socket),
        tmp.resolve("h.log"));
    try (NbdClient c = NbdClient.connect(NbdAddress.unix(socket), "disk", List.of(MetaContexts.BASE_ALLOCATION))) {
      if (known == null) return new DiskHashes(disk, chunkBytes, ChunkHashes.compute(c, chunkBytes));
      List<String> out = new java.util.ArrayList<>(known);
      java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocateDirect(ChunkHashes.READ);
      for (int i = 0; i < out.size(); i++) {
        if (out.get(i) == null) out.set(i, ChunkHashes.chunk(c, i, chunkBytes, buffer));
      }
      return new DiskHashes(disk, chunkBytes, List.copyOf(out));
    } catch (NbdException e) {
      throw new AgentException(Kind.UNAVAILABLE, "cannot hash disk " + disk + " (" + image + "): " + e.getMessage(), e);
    } finally {
      NbdDaemon.stop(p.pid(), pidFile);
      deleteTree(tmp);
    }
  }

  /** A fresh directory for sockets: short (UNIX socket paths have 108 bytes) and private (0700). */
  public static Path privateDir() {
    try {
      return Files.createTempDirectory(Path.of("/tmp"), "ferry-cold-");
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot create a socket directory in /tmp: " + e.getMessage(), e);
    }
  }

  public static void deleteTree(Path dir) {
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) Files.deleteIfExists(f);
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // a leftover empty socket directory in /tmp is harmless
    }
  }
}
