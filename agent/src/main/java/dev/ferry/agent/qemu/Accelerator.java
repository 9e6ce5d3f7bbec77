package dev.ferry.agent.qemu;

/** How QEMU runs guest code on this host. */
public enum Accelerator {
  /** hardware virtualisation; used only when a guest was seen to really run under it */
  KVM,
  /** software emulation; always works, slower */
  TCG;

  public String qemuName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
