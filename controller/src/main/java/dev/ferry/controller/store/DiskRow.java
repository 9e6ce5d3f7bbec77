package dev.ferry.controller.store;

import dev.ferry.api.DiskView;

/** A VM's disk as stored; {@code createdByFerry} disks are deleted with the VM. */
public record DiskRow(String vm, String id, String pool, String format, String path, long sizeBytes,
    boolean createdByFerry) {

  public DiskView view() {
    return new DiskView(id, pool, format, path, sizeBytes);
  }
}
