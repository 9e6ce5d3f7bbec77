package dev.ferry.controller.migration;

import dev.ferry.api.Json;
import dev.ferry.api.MigrationView;
import dev.ferry.api.agent.HostAgent;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.agents.AgentClient;
import dev.ferry.controller.events.EventBus;
import dev.ferry.controller.hosts.HostRegistry;
import dev.ferry.controller.store.DiskRow;
import dev.ferry.controller.store.HostRow;
import dev.ferry.controller.store.Store;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What every migration runner needs from the controller, and the few rules they share. */
record MigrationContext(Store store, HostRegistry hosts, AgentClient agents, EventBus events, InstantSource clock,
    Duration agentGrace) {

  private static final Logger LOG = LoggerFactory.getLogger(MigrationContext.class);

  HostRow host(String name) {
    return hosts.require("host", name);
  }

  /** The agent of host {@code name}. */
  HostAgent agent(String name) {
    return agents.of(host(name));
  }

  DiskRow disk(String vm, String id) {
    return store.vms().disks(vm).stream().filter(d -> d.id().equals(id)).findFirst()
        .orElseThrow(() -> new ControllerException(ControllerException.Kind.INTERNAL,
            "vm '" + vm + "' has no disk '" + id + "' any more"));
  }

  void updateDisk(String vm, String id, String pool, String format, String path) {
    DiskRow old = disk(vm, id);
    store.vms().updateDisk(new DiskRow(vm, id, pool, format == null ? old.format() : format,
        path == null ? old.path() : path, old.sizeBytes(), true));
  }

  /** Records the phase change; a runner that lost the compare-and-set must stop, someone else moved it. */
  void advance(MigrationRecord record, String from, String to) {
    if (!store.migrations().advance(record.id, from, to, record.status, json(record), clock.instant())) {
      throw new ControllerException(ControllerException.Kind.CONFLICT,
          "migration " + record.id + " is no longer in phase " + from + "; refusing to move it to " + to);
    }
  }

  void progress(MigrationRecord record, String phase) {
    store.migrations().progress(record.id, phase, json(record), clock.instant());
  }

  /**
   * When the guest was asked to power off (warm, cold with {@code --shutdown}): the first request's
   * instant, persisted before the agent is called, so that a controller restarted after it measures
   * the downtime from there too and not from the migration's start. The runner that makes the
   * request counts from the end of that write instead: the guest runs untouched until the agent
   * is asked, and the store's write (a commit) is no part of its downtime.
   */
  Instant shutdownRequested(MigrationRecord record, String phase) {
    if (record.shutdownRequestedAt == null) {
      record.shutdownRequestedAt = clock.instant();
      progress(record, phase);
      return clock.instant();
    }
    return record.shutdownRequestedAt;
  }

  /**
   * Calls an agent, riding out an agent restart: while the agent cannot be reached the call is
   * repeated for up to {@code agentGrace}. A refusal or a server error is not retried.
   */
  <T> T retrying(String host, String what, Supplier<T> call) {
    Instant until = clock.instant().plus(agentGrace);
    while (true) {
      try {
        return call.get();
      } catch (ControllerException e) {
        if (e.kind() != ControllerException.Kind.UNAVAILABLE || clock.instant().isAfter(until)) throw e;
        LOG.info("host '{}' unreachable during {} ({}); retrying", host, what, e.getMessage());
        sleep(Duration.ofMillis(500));
      }
    }
  }

  /**
   * What a rollback says of a source whose QEMU died under the migration: the VM is left as the
   * crash left it (Ferry never restarts a crashed guest on its own), its disks untouched.
   */
  static String leftCrashed(MigrationRecord record) {
    return "vm '" + record.vm + "' stays crashed on host '" + record.source + "' as its QEMU's death left it: its"
        + " disks untouched, not started again (ferry vm start " + record.vm + ")";
  }

  void sleep(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ControllerException(ControllerException.Kind.INTERNAL, "migration runner interrupted", e);
    }
  }

  /** The record as the API shows it now, by this controller's clock. */
  MigrationView view(MigrationRecord record) {
    return record.view(clock.instant());
  }

  String json(MigrationRecord record) {
    try {
      return Json.mapper().writeValueAsString(view(record));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot encode migration " + record.id, e);
    }
  }
}
