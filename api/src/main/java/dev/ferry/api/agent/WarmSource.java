package dev.ferry.api.agent;

/**
 * How a warm migration's source stands.
 *
 * @param export where the current pass reads: QEMU's NBD server and one export per disk; empty
 *     export names before pass 0 is prepared
 * @param pass the pass prepared last, -1 before pass 0
 * @param bitmap the dirty bitmap the current pass copies ({@code qemu:dirty-bitmap:NAME} on its
 *     exports); null for pass 0, which copies the whole disk
 * @param dirtyBytes bytes the guest wrote since the current pass began (the recording bitmaps'
 *     counts, all disks)
 * @param guest QEMU's run state: {@code running}, {@code shutdown} (powered off, QEMU kept), or
 *     {@code gone} (QEMU quit)
 * @param shutdownMs how long the guest took to power off, once it did
 */
public record WarmSource(String migrationId, ColdExport export, int pass, String bitmap, long dirtyBytes,
    String guest, Long shutdownMs) {

  public static final String RUNNING = "running";
  public static final String SHUTDOWN = "shutdown";
  public static final String GONE = "gone";
}
