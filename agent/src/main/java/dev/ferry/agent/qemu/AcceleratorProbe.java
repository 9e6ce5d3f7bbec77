package dev.ferry.agent.qemu;

import dev.ferry.agent.AgentException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides between KVM and TCG once, at agent start ({@code --accel auto|kvm|tcg}).
 *
 * <p>Neither {@code /dev/kvm} existing nor QEMU starting under {@code -accel kvm} proves that a
 * guest runs: on the machines Ferry is developed on, firmware runs under KVM while a Linux guest
 * dies ("failed to set MSR 0x10a") or hangs. So, once {@code /dev/kvm} opens read-write, the probe
 * boots this host's own kernel ({@code /boot/vmlinuz-$(uname -r)}) under {@code -accel kvm -cpu
 * host}, the CPU model VMs get under KVM, with no root file system: reaching the kernel's "VFS"
 * panic means early boot, long mode and the CPU model all work. Firmware alone proves nothing (on
 * these machines it runs for ever under KVM while the Linux guest hangs), so without a host kernel
 * {@code --accel auto} stays on TCG; only {@code --accel kvm}, the operator's word, settles for
 * QEMU still running after {@link #FIRMWARE_RUN}.
 *
 * <p>The probe runs QEMU as the user VMs run as ({@link QemuUser}), not as the agent: a root agent
 * opens {@code /dev/kvm} where {@code ferry-qemu} cannot (mode 0600, no {@code kvm} group), and
 * then every VM would fail to start.
 */
public final class AcceleratorProbe {

  private static final Logger log = LoggerFactory.getLogger(AcceleratorProbe.class);
  private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(30);
  static final Duration FIRMWARE_RUN = Duration.ofSeconds(3);
  private static final Path KVM_DEVICE = Path.of("/dev/kvm");

  private final QemuInstallation qemu;
  private final QemuUser user;

  public AcceleratorProbe(QemuInstallation qemu, QemuUser user) {
    this.qemu = qemu;
    this.user = user;
  }

  /** QEMU as the caller's own user (tests, and agents that are not root). */
  public AcceleratorProbe(QemuInstallation qemu) {
    this(qemu, QemuUser.current());
  }

  /** The accelerator for {@code mode}; {@code --accel kvm} on a host where KVM fails is a startup error. */
  public AcceleratorChoice choose(AccelMode mode) {
    AcceleratorChoice c = decide(mode, () -> kvmProblem(mode == AccelMode.KVM));
    log.info("accelerator: {} ({})", c.accelerator().qemuName(), c.probe());
    return c;
  }

  /**
   * The decision alone: {@code kvmProblem} answers empty when KVM really runs a guest, else why
   * not; it is asked only when the mode needs it (never under {@code tcg}).
   */
  static AcceleratorChoice decide(AccelMode mode, Supplier<Optional<String>> kvmProblem) {
    return switch (mode) {
      case TCG -> new AcceleratorChoice(Accelerator.TCG, "tcg chosen by --accel tcg; kvm not probed");
      case KVM -> {
        Optional<String> problem = kvmProblem.get();
        if (problem.isPresent()) {
          throw new AgentException(AgentException.Kind.UNAVAILABLE,
              "--accel kvm, but kvm does not work on this host: " + problem.get() + " (--accel auto falls back to tcg)");
        }
        yield new AcceleratorChoice(Accelerator.KVM, "kvm required by --accel kvm and probed: a guest runs under it");
      }
      case AUTO -> {
        Optional<String> problem = kvmProblem.get();
        yield problem.isPresent()
            ? new AcceleratorChoice(Accelerator.TCG, "tcg, since kvm does not work here: " + problem.get())
            : new AcceleratorChoice(Accelerator.KVM, "kvm: probed, a guest runs under it");
      }
    };
  }

  /**
   * Empty when a guest runs under KVM here; else the first reason it does not. With
   * {@code firmwareSuffices} (the operator asked for kvm) a host without a kernel to boot is
   * judged by its firmware run alone.
   */
  Optional<String> kvmProblem(boolean firmwareSuffices) {
    Optional<String> device = deviceProblem(KVM_DEVICE);
    if (device.isPresent()) return device;
    String denied = user.cannotReadWrite(KVM_DEVICE);
    if (denied != null) return Optional.of(denied);
    Optional<Path> kernel = hostKernel();
    if (kernel.isPresent()) return bootProblem(kernel.get());
    if (!firmwareSuffices) {
      return Optional.of("no kernel of this host (/boot/vmlinuz-" + System.getProperty("os.version", "")
          + ", /vmlinuz) to prove that a Linux guest boots under kvm, and firmware alone does not prove it;"
          + " --accel kvm uses kvm after a firmware check only");
    }
    return firmwareProblem();
  }

  Optional<String> kvmProblem() {
    return kvmProblem(false);
  }

  private static Optional<Path> hostKernel() {
    for (Path p : List.of(Path.of("/boot/vmlinuz-" + System.getProperty("os.version", "")), Path.of("/vmlinuz"))) {
      if (Files.isReadable(p)) return Optional.of(p);
    }
    return Optional.empty();
  }

  static Optional<String> deviceProblem(Path device) {
    if (!Files.exists(device)) return Optional.of(device + " does not exist (no kvm module, or no virtualisation in this machine)");
    try (FileChannel ignored = FileChannel.open(device, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      return Optional.empty();
    } catch (IOException | SecurityException e) {
      return Optional.of(device + " cannot be opened read-write: " + e.getMessage());
    }
  }

  private Optional<String> bootProblem(Path kernel) {
    return runQemu(kernel, BOOT_TIMEOUT, true);
  }

  private Optional<String> firmwareProblem() {
    return runQemu(null, FIRMWARE_RUN, false);
  }

  /**
   * Runs QEMU under KVM with {@code extra}; with {@code untilPanic} it must print the kernel's
   * root-mount panic within {@code time}, else it must merely still run after {@code time}.
   */
  private Optional<String> runQemu(Path kernel, Duration time, boolean untilPanic) {
    Path dir;
    Path console;
    var cmd = new ArrayList<>(List.of(qemu.systemBinary().toString(), "-accel", "kvm", "-cpu", "host", "-nodefaults",
        "-no-user-config", "-display", "none", "-no-reboot", "-machine", qemu.resolveMachineType("q35"), "-m", "256"));
    try {
      dir = Files.createTempDirectory("ferry-kvm-probe");
      console = dir.resolve("console.log");
      cmd.addAll(List.of("-serial", "file:" + console));
      if (kernel != null) {
        // a copy QEMU's user may read: /boot can be private to root
        Path copy = Files.copy(kernel, dir.resolve("vmlinuz"));
        cmd.addAll(List.of("-kernel", copy.toString(), "-append", "console=ttyS0 panic=-1 root=/dev/ferry-probe-none"));
      }
      user.handOverDir(dir);
    } catch (IOException | AgentException e) {
      return Optional.of("cannot prepare a directory for the kvm probe: " + e.getMessage());
    }
    Path qemuLog = dir.resolve("qemu.log");
    Process process = null;
    try {
      process = new ProcessBuilder(user.wrap(cmd)).redirectErrorStream(true).redirectOutput(qemuLog.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
      long until = System.nanoTime() + time.toNanos();
      while (process.isAlive() && System.nanoTime() < until) {
        if (untilPanic && Files.exists(console) && Files.readString(console).contains("VFS: Unable to mount root")) {
          return Optional.empty();
        }
        Thread.sleep(100);
      }
      if (untilPanic && Files.exists(console) && Files.readString(console).contains("VFS: Unable to mount root")) {
        return Optional.empty();
      }
      if (!process.isAlive()) {
        return Optional.of("qemu -accel kvm -cpu host (as user " + user.name() + ") exited (" + process.exitValue() + "): "
            + QemuProcess.tail(qemuLog));
      }
      return untilPanic
          ? Optional.of("this host's kernel did not boot under qemu -accel kvm -cpu host within " + time.toSeconds() + " s")
          : Optional.empty();
    } catch (IOException e) {
      return Optional.of("cannot run " + qemu.systemBinary() + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted while probing kvm");
    } finally {
      if (process != null) {
        process.destroyForcibly();
        try {
          process.waitFor();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      try (var files = Files.list(dir)) {
        for (Path f : files.toList()) Files.deleteIfExists(f);
        Files.deleteIfExists(dir);
      } catch (IOException e) {
        log.debug("cannot remove {}: {}", dir, e.getMessage());
      }
    }
  }
}
