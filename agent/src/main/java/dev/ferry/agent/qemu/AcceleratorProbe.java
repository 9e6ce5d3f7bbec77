package dev.ferry.agent.qemu;

import dev.ferry.agent.AgentException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides between KVM and TCG once per host. Neither {@code /dev/kvm} existing nor a vCPU
 * running firmware proves anything: on these machines SeaBIOS runs under KVM while a Linux guest
 * hangs or dies ("failed to set MSR 0x10a"). So the probe boots a real guest, Ferry's test guest
 * (FERRY_GUEST_DIR), under KVM, and takes KVM only when it reaches userspace; without a probe
 * guest it takes TCG, which always works.
 *
 * <p>The answer is cached in a file keyed by the QEMU version, the host kernel and the probe
 * guest, since each can change what works. {@code FERRY_ACCEL=kvm|tcg} overrides the probe.
 */
public final class AcceleratorProbe {

  private static final Logger log = LoggerFactory.getLogger(AcceleratorProbe.class);
  private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(20);
  private static final String READY = "FERRY READY";

  /** A kernel and initrd whose init prints {@code FERRY READY} once userspace runs. */
  public record ProbeGuest(Path kernel, Path initrd) {
    /** Ferry's test guest, when FERRY_GUEST_DIR names a built one. */
    public static Optional<ProbeGuest> fromEnvironment() {
      String dir = System.getenv("FERRY_GUEST_DIR");
      if (dir == null || dir.isBlank()) return Optional.empty();
      var g = new ProbeGuest(Path.of(dir, "vmlinuz"), Path.of(dir, "initrd.img"));
      return Files.isRegularFile(g.kernel()) && Files.isRegularFile(g.initrd()) ? Optional.of(g) : Optional.empty();
    }
  }

  private final QemuInstallation qemu;
  private final Path cacheDir;
  private final Optional<ProbeGuest> probeGuest;

  /** Where the answer is kept: per user and so per host, shared by every agent on it. */
  public static Path defaultCacheDir() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("ferry");
  }

  public AcceleratorProbe(QemuInstallation qemu, Path cacheDir) {
    this(qemu, cacheDir, ProbeGuest.fromEnvironment());
  }

  public AcceleratorProbe(QemuInstallation qemu, Path cacheDir, Optional<ProbeGuest> probeGuest) {
    this.qemu = qemu;
    this.cacheDir = cacheDir;
    this.probeGuest = probeGuest;
  }

  public Accelerator accelerator() {
    String forced = System.getenv("FERRY_ACCEL");
    if (forced != null && !forced.isBlank()) {
      return Accelerator.valueOf(forced.strip().toUpperCase(Locale.ROOT));
    }
    return probedOrCached();
  }

  /** The probe's answer, from the cache when it has one; ignores FERRY_ACCEL. */
  Accelerator probedOrCached() {
    Path cache = cacheDir.resolve("accel-" + key() + ".txt");
    try {
      if (Files.exists(cache)) return Accelerator.valueOf(Files.readString(cache).strip());
    } catch (IOException | IllegalArgumentException e) {
      log.warn("ignoring unreadable accelerator cache {}: {}", cache, e.getMessage());
    }
    Accelerator found = probe();
    if (probeGuest.isEmpty()) return found; // not a verdict on kvm: probe again once a guest exists
    try {
      Files.createDirectories(cacheDir);
      Path tmp = Files.createTempFile(cacheDir, "accel", ".tmp");
      Files.writeString(tmp, found.name());
      Files.move(tmp, cache, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      log.warn("cannot cache accelerator choice in {}: {}", cache, e.getMessage());
    }
    return found;
  }

  Accelerator probe() {
    Path kvm = Path.of("/dev/kvm");
    if (!Files.isReadable(kvm) || !Files.isWritable(kvm)) {
      return tcg("/dev/kvm missing or not accessible");
    }
    if (probeGuest.isEmpty()) {
      return tcg("no probe guest to boot under kvm (FERRY_GUEST_DIR); FERRY_ACCEL=kvm forces kvm");
    }
    Path dir;
    try {
      dir = Files.createTempDirectory("ferry-kvm-probe");
    } catch (IOException e) {
      throw new AgentException(AgentException.Kind.INTERNAL, "cannot create a directory for the kvm probe: " + e.getMessage(), e);
    }
    Path console = dir.resolve("console.log");
    ProbeGuest guest = probeGuest.get();
    List<String> cmd = List.of(qemu.systemBinary().toString(), "-accel", "kvm", "-nodefaults", "-no-user-config",
        "-display", "none", "-machine", qemu.resolveMachineType("q35"), "-cpu", "qemu64", "-m", "256",
        "-serial", "file:" + console, "-kernel", guest.kernel().toString(), "-initrd", guest.initrd().toString(),
        "-append", "console=ttyS0 panic=-1");
    Process process = null;
    try {
      process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
      long until = System.nanoTime() + BOOT_TIMEOUT.toNanos();
      while (process.isAlive() && System.nanoTime() < until) {
        if (Files.exists(console) && Files.readString(console).contains(READY)) {
          log.info("accelerator: kvm (the probe guest booted to userspace under kvm)");
          return Accelerator.KVM;
        }
        Thread.sleep(100);
      }
      return tcg(process.isAlive()
          ? "the probe guest did not reach userspace under kvm within " + BOOT_TIMEOUT.toSeconds() + " s"
          : "qemu -accel kvm exited: " + QemuProcess.tail(dir.resolve("qemu.log")));
    } catch (IOException e) {
      return tcg("cannot run " + qemu.systemBinary() + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return tcg("interrupted");
    } finally {
      if (process != null) {
        process.destroyForcibly();
        try {
          process.waitFor();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      deleteQuietly(dir);
    }
  }

  private static Accelerator tcg(String why) {
    log.info("accelerator: tcg ({})", why);
    return Accelerator.TCG;
  }

  private static void deleteQuietly(Path dir) {
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) Files.deleteIfExists(f);
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      log.debug("cannot remove {}: {}", dir, e.getMessage());
    }
  }

  private String key() {
    String kernel = System.getProperty("os.version", "unknown").replaceAll("[^A-Za-z0-9._-]", "_");
    String guest = probeGuest.map(g -> Integer.toHexString(g.kernel().toString().hashCode())).orElse("none");
    return qemu.version() + "-" + kernel + "-" + guest;
  }
}
