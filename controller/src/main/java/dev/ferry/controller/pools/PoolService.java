package dev.ferry.controller.pools;

import dev.ferry.api.agent.AgentPoolRequest;
import dev.ferry.api.Names;
import dev.ferry.api.PoolCreateRequest;
import dev.ferry.api.PoolView;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.agents.AgentClient;
import dev.ferry.controller.events.EventBus;
import dev.ferry.controller.hosts.HostRegistry;
import dev.ferry.controller.store.HostRow;
import dev.ferry.controller.store.Store;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Storage pools, one entry per (pool, host). Creating registers the pool on its host through the
 * agent, or on every online host when shared. Every host is checked for a conflicting path before
 * any agent is asked, so a conflict changes nothing; the same name with the same path is a no-op.
 */
public final class PoolService {

  private static final Logger LOG = LoggerFactory.getLogger(PoolService.class);

  private final Store store;
  private final HostRegistry hosts;
  private final AgentClient agents;
  private final EventBus events;

  public PoolService(Store store, HostRegistry hosts, AgentClient agents, EventBus events) {
    this.store = store;
    this.hosts = hosts;
    this.agents = agents;
    this.events = events;
  }

  /** What {@link #create} did: the pool on each target host, and whether anything was new. */
  public record Created(List<PoolView> pools, boolean changed) {}

  public List<PoolView> list() {
    return store.pools().all();
  }

  public synchronized Created create(PoolCreateRequest r) {
    if (!Names.valid(r.name())) throw ControllerException.invalid("name", r.name(), Names.RULE);
    if (r.path() == null || !r.path().startsWith("/") || r.path().indexOf('\0') >= 0) {
      throw ControllerException.invalid("path", r.path(), "an absolute directory path");
    }
    String path = Path.of(r.path()).normalize().toString();
    if (!r.shared() && r.host() == null) {
      throw ControllerException.invalid("host", null, "the name of a host (or shared: true for every online host)");
    }
    if (r.host() != null && !Names.valid(r.host())) throw ControllerException.invalid("host", r.host(), Names.RULE);
    List<HostRow> targets = new ArrayList<>();
    if (r.host() != null) targets.add(hosts.requireOnline("host", r.host()));
    if (r.shared()) {
      hosts.online().stream().filter(h -> !h.name().equals(r.host())).forEach(targets::add);
    }
    if (targets.isEmpty()) {
      throw ControllerException.conflict("host", null, "no host is online to create shared pool '" + r.name() + "' on");
    }
    List<PoolView> result = new ArrayList<>();
    List<HostRow> toCreate = new ArrayList<>();
    for (HostRow h : targets) {
      var existing = store.pools().find(r.name(), h.name());
      if (existing.isEmpty()) {
        toCreate.add(h);
      } else if (!existing.get().path().equals(path)) {
        throw ControllerException.conflict("path", r.path(), "pool '" + r.name() + "' already exists on host '"
            + h.name() + "' with path '" + existing.get().path() + "', not '" + path + "'");
      } else {
        result.add(existing.get());
      }
    }
    for (HostRow h : toCreate) {
      PoolView answered = agents.of(h).definePool(r.name(), new AgentPoolRequest(path, r.shared())).value();
      PoolView view = answered == null
          ? new PoolView(r.name(), h.name(), path, r.shared(), 0, 0)
          : new PoolView(r.name(), h.name(), answered.path() == null ? path : answered.path(), r.shared(),
              answered.capacityBytes(), answered.freeBytes());
      store.pools().upsert(view);
      LOG.info("pool '{}' created on host '{}' at {}{}", r.name(), h.name(), view.path(), r.shared() ? " (shared)" : "");
      events.publish("pool.created", r.name(), view);
      result.add(view);
    }
    return new Created(result, !toCreate.isEmpty());
  }
}
