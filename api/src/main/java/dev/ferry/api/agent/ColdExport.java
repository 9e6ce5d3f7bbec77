package dev.ferry.api.agent;

import java.util.List;

/**
 * Where a source host serves a stopped VM's disks for a cold copy: one NBD server process
 * ({@code qemu-storage-daemon}) on a port of the host's migration range, one read-only export
 * per disk.
 *
 * @param host the address the target connects to
 * @param port a port of the source's migration port range
 * @param tls whether the NBD server requires TLS
 * @param pid the server process, for the record
 */
public record ColdExport(String migrationId, String host, int port, boolean tls, long pid,
    List<ColdExportDisk> disks) {

  /** One exported disk: its export name, image format and virtual size. */
  public record ColdExportDisk(String disk, String export, String format, long virtualSize) {}
}
