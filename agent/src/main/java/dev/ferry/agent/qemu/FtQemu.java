package dev.ferry.agent.qemu;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.api.FtView;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The QEMU an FT-ready VM runs on: the binary that passed this host's COLO probe (Ferry's own
 * build; stock 7.2 deadlocks a COLO primary under TCG). Known only once the probes ran, which
 * happens after the VMs were loaded, so the agent plugs the probes in later ({@link #probedBy}).
 */
public final class FtQemu {

  private volatile Supplier<FtView> probes = () -> null;
  private final Path imgBinary;
  private final Map<Path, QemuInstallation> detected = new ConcurrentHashMap<>();

  public FtQemu(Path imgBinary) {
    this.imgBinary = imgBinary;
  }

  public void probedBy(Supplier<FtView> findings) {
    this.probes = findings;
  }

  /** What the probes found; null before they are plugged in. */
  public FtView view() {
    return probes.get();
  }

  /** The installation of the binary that passed the probe; 409 naming the probe's reason when none did. */
  public QemuInstallation installation(String vm) {
    FtView v = probes.get();
    if (v == null || !v.supported() || v.binary() == null) {
      String why = v == null ? "the probes have not started" : v.reason();
      throw new AgentException(Kind.CONFLICT, "vm " + vm + " is ft-ready, but no QEMU of this host passed the FT probe"
          + (v != null && v.binary() != null ? " (" + v.binary() + ")" : "") + ": " + why);
    }
    return detected.computeIfAbsent(Path.of(v.binary()), b -> QemuInstallation.detect(b, imgBinary));
  }
}
