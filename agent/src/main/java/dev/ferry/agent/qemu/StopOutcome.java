package dev.ferry.agent.qemu;

/** How a QEMU process ended when asked to stop. */
public enum StopOutcome {
  /** it was not running */
  ALREADY_STOPPED,
  /** the guest powered itself off after the ACPI power button */
  POWERED_OFF,
  /** the guest ignored the power button until the deadline; QEMU quit on request */
  QUIT,
  /** QEMU did not answer; it was killed */
  KILLED
}
