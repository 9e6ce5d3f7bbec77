package dev.ferry.cli.vm;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.DiskRequest;
import dev.ferry.api.NicRequest;
import dev.ferry.api.VmCreateRequest;
import dev.ferry.api.VmView;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.Converters;
import dev.ferry.cli.client.ControllerClient;
import dev.ferry.cli.host.HostList;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ferry vm create NAME --host H --memory SIZE [--cpus N] (--kernel FILE --initrd FILE
 * [--append ARGS] | --image FILE) [--disk SIZE[@POOL]]... [--format qcow2|raw] [--nic NETWORK[,mac=MAC]]...
 * [--no-start]}.
 * The boot source is a picocli group, so giving both or neither is a parse error (exit 2) and
 * nothing is sent; paths are made absolute here because the agent resolves them on its host.
 */
@Command(name = "create", description = "create (and start) a VM")
final class VmCreate extends ApiCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "VM name")
  String name;

  @Option(names = "--host", required = true, paramLabel = "H", description = "host to create the VM on")
  String host;

  @Option(names = "--memory", required = true, paramLabel = "SIZE", converter = Converters.Size.class,
      description = "guest memory, e.g. 512M or 2G")
  long memory;

  @Option(names = "--cpus", paramLabel = "N", description = "virtual CPUs (default 1)")
  Integer cpus;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Boot boot;

  @Option(names = "--disk", paramLabel = "SIZE[@POOL]", converter = Converters.Disk.class,
      description = "a new disk, e.g. 10G or 10G@shared (pool 'local' when absent); repeatable")
  List<DiskRequest> disks = new ArrayList<>();

  @Option(names = "--format", paramLabel = "qcow2|raw", converter = Converters.Format.class,
      description = "format of the new disks (default qcow2)")
  String format;

  @Option(names = "--nic", paramLabel = "NETWORK[,mac=MAC]", converter = Converters.Nic.class,
      description = "a virtio-net NIC on a network, e.g. default or default,mac=52:54:00:12:34:56; repeatable")
  List<NicRequest> nics = new ArrayList<>();

  @Option(names = "--ft-ready", description = "boot ready for fault tolerance (ferry ft enable): i440fx machine,"
      + " disks under a quorum node, on the host's FT-capable QEMU")
  boolean ftReady;

  @Option(names = "--no-start", description = "define the VM but do not start it")
  boolean noStart;

  @Option(names = "--json", description = "print the API's JSON")
  boolean json;

  /** Exactly one way to boot. */
  static final class Boot {
    @ArgGroup(exclusive = false, multiplicity = "1")
    KernelBoot kernel;

    @Option(names = "--image", required = true, paramLabel = "FILE", description = "bootable disk image (becomes disk0)")
    Path image;
  }

  /** Direct kernel boot: kernel and initrd together, optional command line. */
  static final class KernelBoot {
    @Option(names = "--kernel", required = true, paramLabel = "FILE", description = "kernel to boot")
    Path kernel;

    @Option(names = "--initrd", required = true, paramLabel = "FILE", description = "initrd for the kernel")
    Path initrd;

    @Option(names = "--append", paramLabel = "ARGS", description = "kernel command line")
    String append;
  }

  VmCreate(CliContext ctx) {
    super(ctx);
  }

  VmCreateRequest request() {
    KernelBoot k = boot.kernel;
    List<DiskRequest> withFormat = disks.stream()
        .map(d -> new DiskRequest(d.sizeBytes(), d.pool(), format))
        .toList();
    return new VmCreateRequest(name, host, memory, cpus,
        k == null ? null : ctx.absolute(k.kernel),
        k == null ? null : ctx.absolute(k.initrd),
        k == null ? null : k.append,
        ctx.absolute(boot.image),
        withFormat, !noStart, nics.isEmpty() ? null : List.copyOf(nics), ftReady ? Boolean.TRUE : null);
  }

  @Override
  protected void run(ControllerClient api) {
    VmView vm = api.post(ApiPaths.VMS, request(), VmView.class);
    if (json) {
      printJson(vm);
    } else {
      out().println("created vm " + vm.name() + " on " + vm.host() + " (" + HostList.lower(vm.state()) + ")");
    }
  }
}
