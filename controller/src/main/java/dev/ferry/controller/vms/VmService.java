package dev.ferry.controller.vms;

import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.HostAgent;
import dev.ferry.api.ConsoleChunk;
import dev.ferry.api.HostView;
import dev.ferry.api.PoolView;
import dev.ferry.api.Sizes;
import dev.ferry.api.VmCreateRequest;
import dev.ferry.api.VmState;
import dev.ferry.api.VmView;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import dev.ferry.controller.agents.AgentClient;
import dev.ferry.controller.events.EventBus;
import dev.ferry.controller.hosts.HostRegistry;
import dev.ferry.controller.networks.Leases;
import dev.ferry.controller.store.HostRow;
import dev.ferry.controller.store.Store;
import dev.ferry.controller.store.VmRow;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The VM inventory and placement: create (validate, then {@link VmCreation}), views, actions
 * forwarded to the owning agent, delete. Creations on one host are serialized so two requests
 * cannot both fit into the same free memory, and a name is reserved while its creation runs.
 */
public final class VmService {

  private static final Logger LOG = LoggerFactory.getLogger(VmService.class);

  /** the actions {@code POST /api/vms/NAME/ACTION} accepts */
  public static final Set<String> ACTIONS = Set.of("start", "stop", "kill");
  static final long DEFAULT_STOP_TIMEOUT_MS = 30_000;
  static final long MAX_STOP_TIMEOUT_MS = 3_600_000;

  private final Store store;
  private final HostRegistry hosts;
  private final AgentClient agents;
  private final EventBus events;
  private final VmViews views;
  private final Leases leases;
  private final VmCreation creation;
  private final Map<String, Object> hostLocks = new ConcurrentHashMap<>();
  private final Set<String> creating = ConcurrentHashMap.newKeySet();
  private final java.util.random.RandomGenerator random = new java.security.SecureRandom();

  public VmService(Store store, HostRegistry hosts, AgentClient agents, EventBus events) {
    this(store, hosts, agents, events, null);
  }

  /** {@code cpuBaseline}: the CPU model of every new VM (ferry controller --cpu-model), or null for the host's default. */
  public VmService(Store store, HostRegistry hosts, AgentClient agents, EventBus events, String cpuBaseline) {
    this(store, hosts, agents, events, cpuBaseline, Leases.none());
  }

  /** {@code leases}: the DHCP leases of networks where Ferry serves DHCP, for the NICs' addresses. */
  public VmService(Store store, HostRegistry hosts, AgentClient agents, EventBus events, String cpuBaseline,
      Leases leases) {
    this.store = store;
    this.hosts = hosts;
    this.agents = agents;
    this.events = events;
    this.views = new VmViews(store, leases);
    this.leases = leases;
    this.creation = new VmCreation(store, agents, cpuBaseline);
  }

  public VmView create(VmCreateRequest request) {
    CreationPlan plan = CreationPlan.validate(request);
    VmCreateRequest r = plan.request();
    HostRow known = hosts.require("host", r.host());
    List<PoolView> pools = store.pools().onHost(known.name());
    List<CreationPlan.NewDisk> newDisks = plan.newDisks(known, pools);
    NicAssignment nics = NicAssignment.resolve(r.name(), r.nics(), known, store, hosts, random);
    if (!creating.add(r.name())) {
      throw ControllerException.conflict("name", r.name(), "vm '" + r.name() + "' is being created right now");
    }
    try {
      synchronized (hostLocks.computeIfAbsent(known.name(), k -> new Object())) {
        store.vms().find(r.name()).ifPresent(vm -> {
          throw ControllerException.conflict("name", r.name(),
              "vm '" + r.name() + "' already exists on host '" + vm.host() + "'");
        });
        HostRow host = hosts.requireOnline("host", r.host());
            requireFreeMemory(host, r.memoryBytes());
        VmRow row = creation.run(plan, host, newDisks, pools, nics);
        LOG.info("vm '{}' created on host '{}' ({}, {} cpus, {} disks)", row.name(), row.host(), row.state(),
            row.cpus(), newDisks.size());
        VmView view = views.view(row);
        events.publish("vm.created", row.name(), view);
        return view;
      }
    } finally {
      creating.remove(r.name());
    }
  }

  /** One page of VMs by name, optionally of one host and in one state (as shown). */
  public List<VmView> list(dev.ferry.controller.store.Page page, String host, dev.ferry.api.VmState state) {
    return views.page(page, host, state);
  }

  /** The VM as its agent sees it now when its host is online; the stored state as unknown otherwise. */
  public VmView get(String name) {
    VmRow vm = require(name);
    HostRow host = hosts.require("host", vm.host());
    if (host.state() != dev.ferry.api.HostState.ONLINE) return views.withFt(views.view(vm));
    try {
      AgentVmStatus live = agents.of(host).vm(name);
      return views.withFt(views.view(live == null ? vm : record(vm, live)));
    } catch (ControllerException e) {
      LOG.debug("live state of vm '{}' unavailable: {}", name, e.getMessage());
      return views.withFt(VmViews.view(vm, store.vms().disks(name), store.networks().nics(name), true, leases));
    }
  }

  /** start, stop (with {@code timeoutMs}, null for the default) or kill, on the owning agent. */
  /** A migration owns its VM until it ends; only kill, the emergency brake, goes through. */
  private void requireNoMigration(String name, String action) {
    // kill is never asked here: a protected VM may always be killed
    dev.ferry.controller.ft.FtGuard.requireUnprotected(store, name, action);
    store.migrations().runningForVm(name).ifPresent(m -> {
      throw ControllerException.conflict("name", name, "vm '" + name + "' is in migration " + m.id() + " (" + m.kind()
          + ", phase " + m.phase() + "); cancel it first (ferry migration cancel " + m.id() + ") or " + action + " later");
    });
  }

  public VmView act(String name, String action, Long timeoutMs) {
    if (!ACTIONS.contains(action)) {
      throw ControllerException.invalid("action", action, "start, stop or kill");
    }
    VmRow vm = require(name);
    if (!action.equals("kill")) requireNoMigration(name, action);
    HostRow host = hosts.requireOnline("host", vm.host());
    if (action.equals("start") && vm.state() == VmState.STOPPED) {
      // a stopped VM holds no memory; starting it must fit like creating it did
      synchronized (hostLocks.computeIfAbsent(host.name(), k -> new Object())) {
        requireFreeMemory(host, Math.max(vm.memoryRequestedBytes(), vm.memoryGivenBytes()));
      }
    }
    HostAgent agent = agents.of(host);
    AgentVmStatus status = switch (action) {
      case "start" -> agent.start(name);
      case "kill" -> agent.kill(name);
      default -> {
        long ms = timeoutMs == null ? DEFAULT_STOP_TIMEOUT_MS : timeoutMs;
        if (ms < 0 || ms > MAX_STOP_TIMEOUT_MS) {
          throw ControllerException.invalid("timeout_ms", ms, "0-" + MAX_STOP_TIMEOUT_MS + " milliseconds");
        }
        // the agent waits up to timeout_ms for the guest, then needs a moment to kill and answer
        yield agent.within(Duration.ofMillis(ms).plus(AgentClient.DEFAULT_TIMEOUT)).stop(name, Duration.ofMillis(ms));
      }
    };
    VmRow next = status == null ? vm : record(vm, status);
    return views.view(next);
  }

  /** Deletes a stopped VM and the disk images Ferry made for it; 409 while it runs. */
  public void delete(String name) {
    VmRow vm = require(name);
    requireNoMigration(name, "delete");
    HostRow host = hosts.requireOnline("host", vm.host());
    AgentVmStatus live = null;
    try {
      live = agents.of(host).vm(name);
    } catch (ControllerException e) {
      if (!isNotFound(e)) throw e;
    }
    VmState state = live == null ? vm.state() : live.state();
    if (state != VmState.STOPPED && state != VmState.CRASHED) {
      throw ControllerException.conflict("name", name, "vm '" + name + "' is " + state.name().toLowerCase()
          + " on host '" + host.name() + "'; stop it first");
    }
    try {
      agents.of(host).deleteVm(name, true);
    } catch (ControllerException e) {
      if (!isNotFound(e)) throw e; // the agent no longer has it: only the inventory is left to clean
    }
    store.vms().delete(name);
    LOG.info("vm '{}' deleted from host '{}'", name, host.name());
    events.publish("vm.deleted", name, Map.of("name", name, "host", host.name()));
  }

  /** The serial console from byte {@code offset}, or its last {@code tail} lines. */
  public ConsoleChunk console(String name, Long offset, Integer tail) {
    if (offset != null && tail != null) {
      throw ControllerException.invalid("tail", tail, "either offset or tail, not both");
    }
    if (offset != null && offset < 0) throw ControllerException.invalid("offset", offset, "0 or more bytes");
    if (tail != null && (tail < 1 || tail > 100_000)) throw ControllerException.invalid("tail", tail, "1-100000 lines");
    VmRow vm = require(name);
    HostRow host = hosts.requireOnline("host", vm.host());
    ConsoleChunk chunk = agents.of(host).console(name, offset, tail);
    if (chunk == null) return new ConsoleChunk(host.name(), offset == null ? 0 : offset, offset == null ? 0 : offset, "");
    return new ConsoleChunk(host.name(), chunk.offset(), chunk.nextOffset(), chunk.text());
  }

  private void requireFreeMemory(HostRow host, long wanted) {
    HostView hv = hosts.view(host);
    if (wanted > hv.memoryFreeBytes()) {
      throw ControllerException.conflict("memory_bytes", wanted, "memory_bytes " + wanted + " ("
          + Sizes.format(wanted) + ") is more than host '" + host.name() + "' has free: " + hv.memoryFreeBytes()
          + " (" + Sizes.format(hv.memoryFreeBytes()) + ") of " + hv.memoryBytes() + " ("
          + Sizes.format(hv.memoryBytes()) + "), " + hv.memoryCommittedBytes() + " committed");
    }
  }

  private VmRow require(String name) {
    if (!dev.ferry.api.Names.valid(name)) throw ControllerException.invalid("name", name, dev.ferry.api.Names.RULE);
    return store.vms().find(name).orElseThrow(() -> ControllerException.notFound("name", name,
        "vm '" + name + "' does not exist", null));
  }

  /** Stores what the agent reported and announces a state change. */
  private VmRow record(VmRow vm, AgentVmStatus status) {
    VmRow next = vm.with(status);
    if (!next.equals(vm)) store.vms().update(next);
    if (next.state() != vm.state()) {
      LOG.info("vm '{}' on host '{}' is {} (was {})", vm.name(), vm.host(), next.state(), vm.state());
      events.publish("vm.state", vm.name(), Map.of("name", vm.name(), "host", vm.host(), "state", next.state(),
          "previous", vm.state()));
    }
    return next;
  }

  private static boolean isNotFound(ControllerException e) {
    return e.kind() == Kind.AGENT_REJECTED && e.agentProblem().status() == 404;
  }
}
