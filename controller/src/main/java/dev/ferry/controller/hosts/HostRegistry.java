package dev.ferry.controller.hosts;

import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.HostState;
import dev.ferry.api.HostView;
import dev.ferry.api.Names;
import dev.ferry.api.PoolView;
import dev.ferry.api.VmState;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.events.EventBus;
import dev.ferry.controller.store.HostRow;
import dev.ferry.controller.store.Store;
import dev.ferry.controller.store.VmRow;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which hosts exist and whether they are alive. A heartbeat registers a host or refreshes it (its
 * resources, pools and VM states); {@link #sweep()} marks a host unreachable once no heartbeat came
 * for the host timeout, and the next heartbeat brings it back online. A host's heartbeats and its
 * sweep are serialized (a lock per host) so that each state change produces exactly one
 * {@code host.state} event; different hosts never wait for each other here.
 */
public final class HostRegistry {

  private static final Logger LOG = LoggerFactory.getLogger(HostRegistry.class);

  private final Store store;
  private final EventBus events;
  private final InstantSource clock;
  private final Duration timeout;
  /**
   * Silence is counted from this controller's start at the earliest: heartbeats sent while no
   * controller ran were never received, so a restart must not declare every host unreachable.
   */
  private final Instant watchingSince;
  private final ConcurrentHashMap<String, Object> locks = new ConcurrentHashMap<>();
  /** the last heartbeat received from each host; the store's time is refreshed only once per timeout */
  private final ConcurrentHashMap<String, Instant> seen = new ConcurrentHashMap<>();
  /**
   * What each host's latest heartbeat said of its CPU and accelerator probe. Kept in memory, not in
   * the store: every heartbeat (2 s) brings it again, and a host that sent none since this
   * controller started is not online, so nothing is decided on a missing entry.
   */
  private final Map<String, HostCpuFacts> cpuFacts = new ConcurrentHashMap<>();
  private final Map<String, java.util.Set<String>> machineTypes = new ConcurrentHashMap<>();
  /** The Linux bridges each host's latest heartbeat reported; in memory for the reason above. */
  private final Map<String, java.util.Set<String>> bridges = new ConcurrentHashMap<>();
  /** Each host's FT capability (QEMU binaries and their COLO probe) from its latest heartbeat; in memory likewise. */
  private final Map<String, dev.ferry.api.FtView> ft = new ConcurrentHashMap<>();
  private final Map<String, Boolean> postcopyReady = new ConcurrentHashMap<>();

  public HostRegistry(Store store, EventBus events, InstantSource clock, Duration timeout) {
    this.store = store;
    this.events = events;
    this.clock = clock;
    this.timeout = timeout;
    this.watchingSince = clock.instant();
  }

  /**
   * Registers or refreshes the host that sent {@code hb}. A steady host's heartbeat reads its row,
   * its pools and its VMs (one query each) and writes nothing: liveness is judged on the time kept
   * in memory, and the stored time is refreshed once per host timeout (a durable write costs a disk
   * flush, several milliseconds, which 50 hosts every 2 s turned into the store's main load). Pools
   * and VM rows are written only where the report differs from what is stored. Heartbeats of different hosts run in
   * parallel: only the same host's heartbeats and sweep are serialized, by a lock per host.
   */
  public HostView heartbeat(AgentHeartbeat hb) {
    validate(hb);
    synchronized (lockOf(hb.name())) {
      Instant now = clock.instant();
      var before = store.hosts().find(hb.name());
      HostRow row = new HostRow(hb.name(), hb.url(), HostState.ONLINE, now, hb.cpus(), hb.memoryBytes(),
          hb.qemuVersion(), hb.accelerator());
      cpuFacts.put(hb.name(), new HostCpuFacts(hb.acceleratorProbe(), hb.cpuFlags(), hb.cpuModels()));
      if (hb.machineTypes() != null) machineTypes.put(hb.name(), java.util.Set.copyOf(hb.machineTypes()));
      else machineTypes.remove(hb.name());
      postcopyReady.put(hb.name(), Boolean.TRUE.equals(hb.postcopyReady()));
      if (hb.ft() != null) ft.put(hb.name(), hb.ft());
      else ft.remove(hb.name());
      bridges.put(hb.name(), hb.bridges() == null ? java.util.Set.of()
          : hb.bridges().stream().filter(Objects::nonNull).collect(java.util.stream.Collectors.toUnmodifiableSet()));
      seen.merge(hb.name(), now, (a, b) -> a.isAfter(b) ? a : b);
      if (before.isEmpty() || !before.get().withLastHeartbeat(now).equals(row)) {
        store.hosts().upsert(row);
      } else if (!before.get().lastHeartbeat().isAfter(now.minus(timeout))) {
        store.hosts().touch(hb.name(), now);
      }
      List<PoolView> pools = new ArrayList<>();
      for (PoolView p : hb.pools() == null ? List.<PoolView>of() : hb.pools()) {
        if (p != null && Names.valid(p.name()) && p.path() != null) {
          pools.add(new PoolView(p.name(), hb.name(), p.path(), p.shared(), p.capacityBytes(), p.freeBytes()));
        }
      }
      pools.sort(Comparator.comparing(PoolView::name));
      if (before.isEmpty() || !store.pools().onHost(hb.name()).equals(pools)) {
        store.pools().replaceOnHost(hb.name(), pools);
      }
      if (before.isEmpty()) {
        LOG.info("host '{}' registered at {} ({} cpus, {} bytes, qemu {}, {})", hb.name(), hb.url(), hb.cpus(),
            hb.memoryBytes(), hb.qemuVersion(), hb.accelerator());
        events.publish("host.registered", hb.name(), view(row));
      } else if (before.get().state() != HostState.ONLINE) {
        LOG.info("host '{}' is online again", hb.name());
        events.publish("host.state", hb.name(), view(row));
      }
      return view(row, applyVmStates(hb));
    }
  }

  /** The CPU facts of {@code host}'s latest heartbeat since this controller started, if any. */
  public Optional<HostCpuFacts> cpu(String host) {
    return Optional.ofNullable(cpuFacts.get(host));
  }

  /**
   * The machine types (versioned names and aliases) of {@code host}'s QEMU, as its latest
   * heartbeat since this controller started reported them; empty when it did not.
   */
  public Optional<java.util.Set<String>> machineTypes(String host) {
    return Optional.ofNullable(machineTypes.get(host));
  }

  /**
   * Whether {@code host}'s latest heartbeat since this controller started said it can be the target
   * of a post-copy; false when it said otherwise, did not say, or has not been heard yet.
   */
  public boolean postcopyReady(String host) {
    return postcopyReady.getOrDefault(host, false);
  }

  /** Whether {@code host}'s latest heartbeat since this controller started reported {@code bridge}. */
  public boolean hasBridge(String host, String bridge) {
    return bridges.getOrDefault(host, java.util.Set.of()).contains(bridge);
  }

  /** Marks hosts without a recent heartbeat unreachable; the sweeper calls this periodically. */
  public void sweep() {
    Instant staleBefore = clock.instant().minus(timeout);
    if (watchingSince.isAfter(staleBefore)) return;
    for (HostRow stored : store.hosts().all()) {
      HostRow h = fresh(stored);
      if (h.state() != HostState.ONLINE || !h.lastHeartbeat().isBefore(staleBefore)) continue;
      synchronized (lockOf(h.name())) {
        // a heartbeat may have come while this sweep waited for the lock
        if (fresh(h).lastHeartbeat().isBefore(staleBefore) && store.hosts().markUnreachable(h.name(), staleBefore)) {
          LOG.info("host '{}' is unreachable: no heartbeat since {} (timeout {} ms)", h.name(), h.lastHeartbeat(),
              timeout.toMillis());
          events.publish("host.state", h.name(), view(h.withState(HostState.UNREACHABLE)));
        }
      }
    }
  }

  /** The stored row with the latest heartbeat time this controller received (the store's may lag). */
  private HostRow fresh(HostRow stored) {
    Instant t = seen.get(stored.name());
    return t == null || !t.isAfter(stored.lastHeartbeat()) ? stored : stored.withLastHeartbeat(t);
  }

  private Object lockOf(String host) {
    return locks.computeIfAbsent(host, k -> new Object());
  }

  public List<HostView> views() {
    return store.hosts().all().stream().map(this::view).toList();
  }

  /** The host named in {@code field}, or 404 listing the known hosts. */
  public HostRow require(String field, String name) {
    return store.hosts().find(name).orElseThrow(() -> {
      String known = known();
      return ControllerException.notFound(field, name, "host '" + name + "' is not known (known: " + known + ")",
          known);
    });
  }

  /** The host named in {@code field}, known and online, else 404 or 409. */
  public HostRow requireOnline(String field, String name) {
    HostRow h = fresh(require(field, name));
    if (h.state() != HostState.ONLINE) {
      throw ControllerException.conflict(field, name, "host '" + name + "' is " + h.state().name().toLowerCase()
          + " (last heartbeat " + h.lastHeartbeat() + ")");
    }
    return h;
  }

  public List<HostRow> online() {
    return store.hosts().all().stream().filter(h -> h.state() == HostState.ONLINE).map(this::fresh).toList();
  }

  public String known() {
    String names = store.hosts().all().stream().map(HostRow::name).collect(Collectors.joining(", "));
    return names.isEmpty() ? "none" : names;
  }

  public HostView view(HostRow h) {
    return view(h, store.vms().onHost(h.name()));
  }

  private HostView view(HostRow stored, List<VmRow> vms) {
    HostRow h = fresh(stored);
    long memory = 0;
    int cpus = 0;
    for (VmRow vm : vms) {
      // committed = what the host's VMs that are not stopped hold (the contract's rule)
      if (vm.state() != VmState.STOPPED) {
        memory += Math.max(vm.memoryRequestedBytes(), vm.memoryGivenBytes());
        cpus += vm.cpus();
      }
    }
    HostCpuFacts f = cpuFacts.get(h.name());
    return new HostView(h.name(), h.url(), h.state(), h.lastHeartbeat(), h.cpus(), cpus, h.memoryBytes(), memory,
        h.qemuVersion(), h.accelerator(), f == null ? null : f.acceleratorProbe(), f == null ? null : f.flags(),
        f == null ? null : f.models(), ft.get(h.name()));
  }

  /**
   * Compares the reported VM states with the host's stored VMs (one query) and writes only the rows
   * that changed, in one transaction; returns the host's VMs as they now are.
   */
  private List<VmRow> applyVmStates(AgentHeartbeat hb) {
    List<VmRow> stored = store.vms().onHost(hb.name());
    if (hb.vms() == null || hb.vms().isEmpty()) return stored;
    Map<String, AgentVmStatus> reported = new HashMap<>();
    for (AgentVmStatus s : hb.vms()) {
      if (s != null && s.name() != null) reported.put(s.name(), s);
    }
    List<VmRow> now = new ArrayList<>(stored.size());
    List<VmRow> changed = new ArrayList<>();
    List<VmRow> previous = new ArrayList<>();
    for (VmRow vm : stored) {
      AgentVmStatus s = reported.get(vm.name());
      VmRow next = s == null ? vm : vm.with(s);
      now.add(next);
      if (!next.equals(vm)) {
        changed.add(next);
        previous.add(vm);
      }
    }
    if (changed.isEmpty()) return now;
    // a VM handed to another host since the read above is left to that host's heartbeat
    Set<String> written = store.vms().updateOnHost(hb.name(), changed);
    for (int i = 0; i < changed.size(); i++) {
      VmRow next = changed.get(i);
      VmRow vm = previous.get(i);
      if (written.contains(next.name()) && next.state() != vm.state()) {
        LOG.info("vm '{}' on host '{}' is {} (was {})", vm.name(), vm.host(), next.state(), vm.state());
        events.publish("vm.state", vm.name(), Map.of("name", vm.name(), "host", vm.host(),
            "state", next.state(), "previous", vm.state()));
      }
    }
    return now;
  }

  private static void validate(AgentHeartbeat hb) {
    if (!Names.valid(hb.name())) throw ControllerException.invalid("name", hb.name(), Names.RULE);
    URI uri;
    try {
      uri = URI.create(Objects.requireNonNull(hb.url()));
    } catch (RuntimeException e) {
      throw ControllerException.invalid("url", hb.url(), "an http:// or https:// URL");
    }
    if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
      throw ControllerException.invalid("url", hb.url(), "an http:// or https:// URL");
    }
    if (hb.cpus() < 1) throw ControllerException.invalid("cpus", hb.cpus(), "at least 1");
    if (hb.memoryBytes() < 0) throw ControllerException.invalid("memory_bytes", hb.memoryBytes(), "0 or more");
  }
}
