package dev.ferry.api;

/** A VM's state as its owning host sees it. */
public enum VmState {
  /** defined, no QEMU process */
  STOPPED,
  /** QEMU is being started */
  STARTING,
  /** QEMU runs and the vCPUs run */
  RUNNING,
  /** QEMU runs, the vCPUs are stopped */
  PAUSED,
  /** a graceful stop is under way */
  STOPPING,
  /** the QEMU process ended without being asked to */
  CRASHED,
  /** the owning host is unreachable; the last known state is not trusted */
  UNKNOWN
}
