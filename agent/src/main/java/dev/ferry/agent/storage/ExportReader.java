package dev.ferry.agent.storage;

import java.nio.file.Path;
import java.util.List;

/**
 * What verification needs of an NBD export: its size, its bytes, and the block status of one
 * metadata context. {@link NbdExports} implements it over {@code dev.ferry.nbd.NbdClient}; tests
 * fake it.
 */
interface ExportReader extends AutoCloseable {

  long size();

  byte[] read(long offset, int length);

  /** Extents from {@code offset} on, in order, covering at least part of {@code length}. */
  List<Extent> blockStatus(long offset, long length);

  @Override
  void close();

  /** One block-status extent; for {@code qemu:dirty-bitmap:*} bit 0 of {@code flags} means dirty. */
  record Extent(long length, int flags) {}

  /** Connects to an export of the NBD server on a UNIX socket, with one metadata context or none. */
  @FunctionalInterface
  interface Opener {
    ExportReader open(Path socket, String export, String metaContext);
  }
}
