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
  /**
   * the owning host is unreachable, or its agent cannot reach the VM's live QEMU over QMP; the last
   * known state is not trusted, and start and delete are refused until it is known again
   */
  UNKNOWN
}
