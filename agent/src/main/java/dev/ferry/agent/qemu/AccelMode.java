package dev.ferry.agent.qemu;

import java.util.Locale;

/** {@code ferry agent --accel}: what the operator asks for; {@link AcceleratorProbe} decides. */
public enum AccelMode {
  /** KVM when it really runs a guest here, else TCG (the default) */
  AUTO,
  /** KVM or the agent does not start: a host meant for production must not silently emulate */
  KVM,
  /** TCG without probing: tests, and hosts whose KVM is known to be broken */
  TCG;

  /** {@code auto}, {@code kvm} or {@code tcg}, any case. */
  public static AccelMode parse(String text) {
    try {
      return valueOf(text.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new IllegalArgumentException("--accel '" + text + "' is not one of auto, kvm, tcg");
    }
  }
}
