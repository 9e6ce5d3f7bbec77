package dev.ferry.controller.vms;

import dev.ferry.api.DiskRequest;
import dev.ferry.api.Macs;
import dev.ferry.api.NicRequest;
import dev.ferry.api.TapNames;
import dev.ferry.api.Names;
import dev.ferry.api.PoolView;
import dev.ferry.api.VmCreateRequest;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.store.HostRow;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A VM creation request that passed every input check, with its defaults applied: what to create
 * where. Built in two steps so that a request with bad input is refused (400) before anything
 * about the cluster is looked at, and nothing is touched before every check passed.
 *
 * @param request the request with defaults filled in (cpus, start, each disk's pool and format)
 * @param bootFormat format of {@code request.image()} as disk0, or null when booting a kernel
 */
record CreationPlan(VmCreateRequest request, String bootFormat) {

  static final Set<String> FORMATS = Set.of("qcow2", "raw");
  static final long MIN_MEMORY = 1L << 20;
  static final long MAX_MEMORY = 1L << 44;
  static final int MAX_CPUS = 64;
  static final int MAX_DISKS = 16;

  /** A new disk image to make: {@code <vm>-<id>.<format>} in {@code pool}. */
  record NewDisk(String id, PoolView pool, String format, long sizeBytes) {
    String fileName(String vm) {
      return vm + "-" + id + "." + format;
    }
  }

  /** Checks what can be checked without the cluster's state (→ 400) and applies defaults. */
  static CreationPlan validate(VmCreateRequest r) {
    if (!Names.valid(r.name())) throw ControllerException.invalid("name", r.name(), Names.RULE);
    if (!Names.valid(r.host())) throw ControllerException.invalid("host", r.host(), "the name of a host: " + Names.RULE);
    if (r.memoryBytes() < MIN_MEMORY || r.memoryBytes() > MAX_MEMORY) {
      throw ControllerException.invalid("memory_bytes", r.memoryBytes(), "1 MiB (1048576) to 16 TiB, in bytes");
    }
    int cpus = r.cpus() == null ? 1 : r.cpus();
    if (cpus < 1 || cpus > MAX_CPUS) throw ControllerException.invalid("cpus", cpus, "1-" + MAX_CPUS);
    if (r.kernel() == null && r.image() == null) {
      throw ControllerException.invalid("kernel", null, "a kernel path, or an image path in 'image', is required",
          "kernel or image is required: give a kernel (+ initrd, append) or a bootable image");
    }
    if (r.kernel() != null && r.image() != null) {
      throw ControllerException.invalid("image", r.image(), "either kernel or image, not both");
    }
    if (r.kernel() == null && r.initrd() != null) throw ControllerException.invalid("initrd", r.initrd(), "only with kernel");
    if (r.kernel() == null && r.append() != null) throw ControllerException.invalid("append", r.append(), "only with kernel");
    requireAbsolute("kernel", r.kernel());
    requireAbsolute("initrd", r.initrd());
    requireAbsolute("image", r.image());
    List<DiskRequest> disks = r.disks() == null ? List.of() : r.disks();
    if (disks.size() > MAX_DISKS) throw ControllerException.invalid("disks", disks.size() + " disks", "at most " + MAX_DISKS);
    List<DiskRequest> normalized = new ArrayList<>();
    for (int i = 0; i < disks.size(); i++) {
      DiskRequest d = disks.get(i);
      String f = "disks[" + i + "]";
      if (d == null) throw ControllerException.invalid(f, null, "a disk object");
      if (d.sizeBytes() < MIN_MEMORY) throw ControllerException.invalid(f + ".size_bytes", d.sizeBytes(), "at least 1 MiB (1048576), in bytes");
      String pool = d.pool() == null ? "local" : d.pool();
      if (!Names.valid(pool)) throw ControllerException.invalid(f + ".pool", pool, Names.RULE);
      String format = d.format() == null ? "qcow2" : d.format();
      if (!FORMATS.contains(format)) throw ControllerException.invalid(f + ".format", format, "qcow2 or raw");
      normalized.add(new DiskRequest(d.sizeBytes(), pool, format));
    }
    VmCreateRequest req = new VmCreateRequest(r.name(), r.host(), r.memoryBytes(), cpus, r.kernel(), r.initrd(),
        r.append(), r.image(), List.copyOf(normalized), r.start() == null || r.start(), nics(r.nics()), r.ftReady());
    return new CreationPlan(req, r.image() == null ? null : guessFormat(r.image()));
  }

  /**
   * The NICs with their MACs in canonical form (null where the controller assigns one): each
   * network a valid name, each given MAC well-formed, unicast and not given twice.
   */
  static List<NicRequest> nics(List<NicRequest> given) {
    if (given == null || given.isEmpty()) return List.of();
    if (given.size() > TapNames.MAX_NICS) {
      throw ControllerException.invalid("nics", given.size() + " nics", "at most " + TapNames.MAX_NICS);
    }
    List<NicRequest> out = new ArrayList<>();
    Set<String> macs = new java.util.HashSet<>();
    for (int i = 0; i < given.size(); i++) {
      NicRequest n = given.get(i);
      String f = "nics[" + i + "]";
      if (n == null) throw ControllerException.invalid(f, null, "a nic: network and optionally mac");
      if (!Names.valid(n.network())) throw ControllerException.invalid(f + ".network", n.network(), "a network name: " + Names.RULE);
      String mac = null;
      if (n.mac() != null) {
        mac = Macs.canonical(n.mac());
        if (mac == null) throw ControllerException.invalid(f + ".mac", n.mac(), Macs.RULE);
        if (Macs.multicast(mac)) {
          throw ControllerException.invalid(f + ".mac", n.mac(), Macs.RULE, "mac " + n.mac() + " of " + f
              + " is a multicast address (lowest bit of the first octet set); a NIC needs a unicast MAC");
        }
        if (!Macs.valid(mac)) throw ControllerException.invalid(f + ".mac", n.mac(), Macs.RULE);
        if (!macs.add(mac)) throw ControllerException.invalid(f + ".mac", n.mac(), "a MAC not given to another nic of this vm");
      }
      out.add(new NicRequest(n.network(), mac));
    }
    return List.copyOf(out);
  }

  /**
   * The new disks with their pools on {@code host}; 404 naming {@code disks[i].pool} when a pool
   * does not exist there. Ids count from disk1 when the image is disk0.
   */
  List<NewDisk> newDisks(HostRow host, List<PoolView> poolsOnHost) {
    List<NewDisk> out = new ArrayList<>();
    int first = bootFormat == null ? 0 : 1;
    for (int i = 0; i < request.disks().size(); i++) {
      DiskRequest d = request.disks().get(i);
      String field = "disks[" + i + "].pool";
      PoolView pool = poolsOnHost.stream().filter(p -> p.name().equals(d.pool())).findFirst().orElseThrow(() -> {
        String known = poolsOnHost.isEmpty() ? "none"
            : String.join(", ", poolsOnHost.stream().map(PoolView::name).toList());
        return ControllerException.notFound(field, d.pool(),
            "pool '" + d.pool() + "' does not exist on host '" + host.name() + "' (pools there: " + known + ")", known);
      });
      out.add(new NewDisk("disk" + (first + i), pool, d.format(), d.sizeBytes()));
    }
    return out;
  }

  /** The pool of {@code host} whose directory holds {@code path}, or null (the agent will refuse it). */
  static String poolOf(String path, List<PoolView> poolsOnHost) {
    Path p = Path.of(path).normalize();
    return poolsOnHost.stream().filter(pool -> p.startsWith(Path.of(pool.path()).normalize()))
        .map(PoolView::name).findFirst().orElse(null);
  }

  private static void requireAbsolute(String field, String path) {
    if (path == null) return;
    if (path.isBlank() || path.indexOf('\0') >= 0 || !path.startsWith("/")) {
      throw ControllerException.invalid(field, path, "an absolute path inside one of the host's pools");
    }
  }

  // a bootable image named *.qcow2 is qcow2; anything else is taken as raw, QEMU's safe default
  private static String guessFormat(String image) {
    return image.endsWith(".qcow2") || image.endsWith(".qcow") ? "qcow2" : "raw";
  }
}
