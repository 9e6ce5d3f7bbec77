package dev.ferry.agent.qemu;

/**
 * How one QEMU process of a VM is started, beyond the VM's own spec.
 *
 * @param paused   start with the vCPUs stopped ({@code -S}); a migration target always is, so it
 *                 cannot run the guest before storage handover and verification are done
 * @param incoming wait for an incoming migration ({@code -incoming defer}); implies paused
 * @param tapsOffBridge the NICs' taps are made but not put on their bridges: a COLO secondary's
 *                 guest gets its frames from the primary's proxy, and a frame it sends must not
 *                 teach the bridge its MAC, until a takeover attaches them
 */
public record LaunchOptions(Accelerator accelerator, MemoryPlan memory, boolean paused, boolean incoming,
    boolean tapsOffBridge) {

  public LaunchOptions {
    if (accelerator == null || memory == null) {
      throw new IllegalArgumentException("launch options need an accelerator and a memory plan");
    }
    paused = paused || incoming;
  }

  public LaunchOptions(Accelerator accelerator, MemoryPlan memory, boolean paused, boolean incoming) {
    this(accelerator, memory, paused, incoming, false);
  }

  public static LaunchOptions running(Accelerator accelerator, MemoryPlan memory) {
    return new LaunchOptions(accelerator, memory, false, false);
  }
}
