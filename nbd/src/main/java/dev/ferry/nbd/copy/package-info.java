/**
 * Ferry's disk copier: pulls an export from a source NBD server into a target image, sending
 * only the ranges the source has allocated, with several connections in flight and a bandwidth
 * cap, and hashes an export chunk by chunk so that two hosts can prove their copies equal
 * without shipping either.
 *
 * <p>A copy is a {@link dev.ferry.nbd.copy.CopyPlan} (what to read, what to zero) run by a
 * {@link dev.ferry.nbd.copy.DiskCopy} into a {@link dev.ferry.nbd.copy.CopyTarget}. A cold copy
 * plans from {@code base:allocation}; a warm pass will plan from the extents of a dirty bitmap
 * intersected with {@code base:allocation}, with the same runner and targets.
 */
package dev.ferry.nbd.copy;
