package dev.ferry.agent.qemu;

/**
 * The accelerator an agent runs its VMs with, and the probe's finding in words, as {@code ferry
 * host list} shows it ({@code accelerator_probe}): an operator whose host emulates wants to know
 * why.
 */
public record AcceleratorChoice(Accelerator accelerator, String probe) {

  public AcceleratorChoice {
    if (accelerator == null || probe == null || probe.isBlank()) {
      throw new IllegalArgumentException("an accelerator choice needs an accelerator and the probe's finding");
    }
  }

  /** The CPU model a VM gets here unless the cluster names a baseline: all of the host's under KVM. */
  public String defaultCpuModel() {
    return accelerator == Accelerator.KVM ? "host" : "qemu64";
  }
}
