package dev.ferry.api;

/** Where a migration stands; the last three are final. */
public enum MigrationStatus {
  /** still working (or being recovered after a controller restart) */
  RUNNING,
  /** done; the VM runs where it was meant to go */
  SUCCEEDED,
  /** stopped by an error; the VM runs where it ran before ({@code reason} says why) */
  FAILED,
  /** stopped on request before the point of no return; the VM runs where it ran before */
  CANCELLED
}
