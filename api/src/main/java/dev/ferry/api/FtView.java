package dev.ferry.api;

import java.util.List;

/**
 * What a host can do for fault tolerance (issue 12): COLO works only on a QEMU binary that passed
 * the agent's probe, a short COLO self-test (stock Debian QEMU 7.2 deadlocks its primary under
 * TCG at the first checkpoints).
 *
 * @param supported whether some binary of the host passed the probe
 * @param binary    the binary FT uses: the first that passed, else the one the reason is about
 * @param reason    in words: why it is supported, why not, or that a probe still runs
 * @param binaries  every QEMU binary the agent knows, each with its own finding
 */
public record FtView(boolean supported, String binary, String reason, List<FtBinaryView> binaries) {

  public FtView {
    binaries = binaries == null ? List.of() : List.copyOf(binaries);
  }
}
