package dev.ferry.controller;

import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.api.agent.AgentPoolRequest;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.ConsoleChunk;
import dev.ferry.api.agent.IncomingReady;
import dev.ferry.api.agent.IncomingRequest;
import dev.ferry.api.agent.IncomingStatus;
import dev.ferry.api.Json;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.MirrorRequest;
import dev.ferry.api.agent.MirrorStatus;
import dev.ferry.api.agent.OutgoingRequest;
import dev.ferry.api.PoolView;
import dev.ferry.api.Problem;
import dev.ferry.api.agent.VerifyResult;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.VolumeCreateRequest;
import dev.ferry.api.agent.VolumeView;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for {@code ferry agent}: the agent endpoints the controller calls, over real HTTP,
 * recording each call as {@code METHOD path}; sends heartbeats on demand or periodically.
 * {@code failOn} makes one call answer 500; kernel/initrd paths outside every pool answer 400.
 */
final class FakeAgent implements AutoCloseable {

  final String name;
  final String token;
  final long memoryBytes;
  final List<String> calls = new CopyOnWriteArrayList<>();
  final Map<String, PoolView> pools = new ConcurrentHashMap<>();
  final Map<String, AgentVmStatus> vms = new ConcurrentHashMap<>();
  final Map<String, VolumeView> volumes = new ConcurrentHashMap<>();
  volatile String failOn;
  /** disk moves by "vm/disk"; a GET advances a running move by a quarter until it is ready */
  final Map<String, MirrorStatus> moves = new ConcurrentHashMap<>();
  /** while true, running moves make progress but never become ready */
  volatile boolean holdReady;
  /** when set, a running move fails with this error at its next GET */
  volatile String failMirror;
  /** live migration, target side: the last PUT incoming per vm and its phase */
  final Map<String, IncomingRequest> incoming = new ConcurrentHashMap<>();
  final Map<String, String> incomingPhase = new ConcurrentHashMap<>();
  /** QEMU's migration status the target reports; "gone" plays a dead target QEMU */
  volatile String targetQemu = "active";
  /** what POST incoming/recover answers */
  static final String RECOVERY_URI = "tcp:127.0.0.1:49153";
  /** the parameters of every POST outgoing/parameters, in order */
  final List<Map<String, Object>> tuned = new CopyOnWriteArrayList<>();
  /** the URI the last POST outgoing/resume carried */
  volatile String resumedTo;
  /** when set, PUT incoming answers this problem */
  volatile Problem refuseIncoming;
  /** live migration, source side: the POST outgoing per vm */
  final Map<String, OutgoingRequest> outgoing = new ConcurrentHashMap<>();
  /** GET outgoing answers these in order (the last one repeats); the migration id is filled in */
  final List<MigrationStats> script = new CopyOnWriteArrayList<>();
  /** after POST outgoing/postcopy, GET outgoing answers these instead */
  final List<MigrationStats> postcopyScript = new CopyOnWriteArrayList<>();
  private volatile List<MigrationStats> playing = List.of();
  private volatile int played;
  private volatile MigrationStats lastStats;
  /** while set, GET outgoing holds at this script index (the answer repeats) */
  volatile int holdAt = Integer.MAX_VALUE;
  /** when set, the source completes just before a cancel reaches it: POST outgoing/cancel answers 409 */
  volatile boolean completeBeforeCancel;
  /** while set and closed, POST outgoing/complete waits for it */
  volatile java.util.concurrent.CountDownLatch completeGate;
  /** when set, verification reports this many mismatched bytes */
  volatile long verifyMismatch;
  /** how long verification takes */
  volatile long verifyMillis;
  private final Javalin app;
  private final HttpClient http = HttpClient.newHttpClient();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private ScheduledFuture<?> beating;

  FakeAgent(String name, String token, long memoryBytes) {
    this.name = name;
    this.token = token;
    this.memoryBytes = memoryBytes;
    this.app = Javalin.create(cfg -> {
      cfg.startup.showJavalinBanner = false;
      cfg.jetty.host = "127.0.0.1";
      cfg.jetty.port = 0;
      var r = cfg.routes;
      r.before(ctx -> {
        if (!("Bearer " + token).equals(ctx.header("Authorization"))) {
          problem(ctx, Problem.of(401, "unauthorized", "wrong token"));
          ctx.skipRemainingHandlers();
          return;
        }
        String call = ctx.method().name() + " " + ctx.path();
        calls.add(call);
        if (call.equals(failOn)) {
          problem(ctx, Problem.of(500, "internal error", "injected failure of " + call));
          ctx.skipRemainingHandlers();
        }
      });
      r.put("/agent/pools/{name}", ctx -> {
        AgentPoolRequest req = read(ctx, AgentPoolRequest.class);
        PoolView p = new PoolView(ctx.pathParam("name"), name, req.path(), req.shared(), 100L << 30, 50L << 30);
        pools.put(p.name(), p);
        json(ctx, 200, p);
      });
      r.post("/agent/volumes", ctx -> {
        VolumeCreateRequest req = read(ctx, VolumeCreateRequest.class);
        PoolView p = pools.get(req.pool());
        if (p == null) {
          problem(ctx, Problem.of(404, "not found", "pool '" + req.pool() + "' does not exist"));
          return;
        }
        VolumeView v = new VolumeView(req.pool(), req.name(), p.path() + "/" + req.name(), req.format(), req.sizeBytes());
        volumes.put(req.pool() + "/" + req.name(), v);
        json(ctx, 201, v);
      });
      r.delete("/agent/volumes/{pool}/{name}", ctx -> {
        volumes.remove(ctx.pathParam("pool") + "/" + ctx.pathParam("name"));
        ctx.status(204);
      });
      r.put("/agent/vms/{name}", ctx -> {
        AgentVmDefinition d = read(ctx, AgentVmDefinition.class);
        for (String path : new String[] {d.kernel(), d.initrd()}) {
          if (path != null && pools.values().stream().noneMatch(p -> path.startsWith(p.path() + "/"))) {
            problem(ctx, Problem.badInput("kernel", path, "a path inside one of the pools of host '" + name + "'"));
            return;
          }
        }
        AgentVmStatus s = new AgentVmStatus(d.name(), VmState.STOPPED, null, d.memoryBytes(), d.memoryBytes(), null,
            "pc-q35-8.2", "tcg");
        vms.put(d.name(), s);
        json(ctx, 200, s);
      });
      liveRoutes(r);
      r.get("/agent/vms/{name}", ctx -> withVm(ctx, s -> json(ctx, 200, s)));
      r.delete("/agent/vms/{name}", ctx -> withVm(ctx, s -> {
        vms.remove(s.name());
        if ("true".equals(ctx.queryParam("delete_disks"))) volumes.keySet().removeIf(k -> k.contains("/" + s.name() + "-"));
        ctx.status(204);
      }));
      r.post("/agent/vms/{name}/{action}", ctx -> withVm(ctx, s -> {
        if (ctx.pathParam("action").equals("stop")) calls.add("timeout_ms=" + ctx.queryParam("timeout_ms"));
        VmState next = ctx.pathParam("action").equals("start") ? VmState.RUNNING : VmState.STOPPED;
        AgentVmStatus n = new AgentVmStatus(s.name(), next, next == VmState.RUNNING ? 4242L : null,
            s.memoryRequestedBytes(), s.memoryGivenBytes(), null, s.machineType(), s.accelerator());
        vms.put(n.name(), n);
        json(ctx, 200, n);
      }));
      r.put("/agent/vms/{name}/mirrors/{disk}", ctx -> {
        MirrorRequest req = read(ctx, MirrorRequest.class);
        String key = ctx.pathParam("name") + "/" + ctx.pathParam("disk");
        MirrorStatus existing = moves.get(key);
        if (existing != null && existing.targetPath().contains(req.suffix())) {
          json(ctx, 200, existing);
          return;
        }
        PoolView p = pools.get(req.pool());
        String target = p.path() + "/" + ctx.pathParam("name") + "-" + ctx.pathParam("disk") + "-" + req.suffix() + "." + req.format();
        MirrorStatus m = new MirrorStatus(ctx.pathParam("disk"), "running", "/old/" + key, "qcow2", target, req.format(),
            0, 4L << 20, null, null);
        moves.put(key, m);
        json(ctx, 201, m);
      });
      r.get("/agent/vms/{name}/mirrors/{disk}", ctx -> {
        String key = ctx.pathParam("name") + "/" + ctx.pathParam("disk");
        MirrorStatus m = moves.get(key);
        if (m == null) {
          json(ctx, 200, new MirrorStatus(ctx.pathParam("disk"), "none", null, null, null, null, 0, 0, null, null));
          return;
        }
        if (m.state().equals("running")) {
          if (failMirror != null) {
            m = with(m, "failed", m.offset(), failMirror);
          } else {
            long next = Math.min(m.length(), m.offset() + m.length() / 4);
            m = with(m, next == m.length() && !holdReady ? "ready" : "running", holdReady ? Math.min(next, m.length() - 1) : next, null);
          }
          moves.put(key, m);
        }
        json(ctx, 200, m);
      });
      r.post("/agent/vms/{name}/mirrors/{disk}/{step}", ctx -> {
        String key = ctx.pathParam("name") + "/" + ctx.pathParam("disk");
        MirrorStatus m = moves.get(key);
        String step = ctx.pathParam("step");
        if (step.equals("release")) calls.add("keep_source=" + ctx.queryParam("keep_source"));
        switch (step) {
          case "pivot" -> {
            m = new MirrorStatus(m.disk(), "pivoted", m.sourcePath(), m.sourceFormat(), m.targetPath(), m.targetFormat(),
                m.offset(), m.length(), 4L, null);
            moves.put(key, m);
            json(ctx, 200, m);
          }
          case "verify" -> {
            Thread.sleep(verifyMillis);
            json(ctx, 200, new VerifyResult(verifyMismatch == 0, m.length(), 0, verifyMismatch,
                verifyMismatch == 0 ? null : 1L << 20, verifyMillis));
          }
          case "release" -> {
            m = with(m, "released", m.offset(), null);
            moves.put(key, m);
            json(ctx, 200, m);
          }
          case "cancel" -> {
            moves.remove(key);
            json(ctx, 200, new MirrorStatus(m.disk(), "none", m.sourcePath(), m.sourceFormat(), null, null, 0, 0, null, null));
          }
          default -> problem(ctx, Problem.of(404, "not found", "no step " + step));
        }
      });
      r.get("/agent/vms/{name}/console", ctx -> withVm(ctx, s ->
          json(ctx, 200, new ConsoleChunk(name, 0, 6, "hello\n"))));
    }).start();
  }

  /** The live-migration endpoints; registered before {@code {action}}, which would match "outgoing". */
  private void liveRoutes(io.javalin.config.RoutesConfig r) {
    r.put("/agent/vms/{name}/incoming", ctx -> {
      if (refuseIncoming != null) {
        problem(ctx, refuseIncoming);
        return;
      }
      IncomingRequest req = read(ctx, IncomingRequest.class);
      String vm = ctx.pathParam("name");
      incoming.put(vm, req);
      incomingPhase.put(vm, "listening");
      boolean copy = req.copyStorage() != null && !req.copyStorage().isEmpty();
      Map<String, String> exports = new java.util.LinkedHashMap<>();
      if (copy) req.copyStorage().forEach(d -> exports.put(d.disk(), d.disk()));
      json(ctx, 200, new IncomingReady(req.migrationId(), "tcp:127.0.0.1:49152", copy ? "127.0.0.1" : null,
          copy ? 10809 : null, exports));
    });
    r.get("/agent/vms/{name}/incoming", ctx -> {
      String vm = ctx.pathParam("name");
      IncomingRequest req = incoming.get(vm);
      if (req == null) {
        problem(ctx, Problem.of(404, "not found", "vm " + vm + " has no incoming migration on this host"));
        return;
      }
      json(ctx, 200, new IncomingStatus(req.migrationId(), incomingPhase.get(vm), targetQemu,
          "finished".equals(incomingPhase.get(vm)), "inmigrate", 77L, "gone".equals(targetQemu) ? "qemu exited" : null));
    });
    r.delete("/agent/vms/{name}/incoming", ctx -> {
      incoming.remove(ctx.pathParam("name"));
      incomingPhase.remove(ctx.pathParam("name"));
      ctx.status(204);
    });
    r.post("/agent/vms/{name}/incoming/{step}", ctx -> {
      String vm = ctx.pathParam("name");
      IncomingRequest req = incoming.get(vm);
      if (ctx.pathParam("step").equals("recover")) {
        if ("gone".equals(targetQemu)) {
          problem(ctx, Problem.of(409, "conflict", "target qemu of vm " + vm + " is gone; a post-copy cannot recover without it"));
          return;
        }
        json(ctx, 200, new IncomingReady(req.migrationId(), RECOVERY_URI, null, null, Map.of()));
        return;
      }
      incomingPhase.put(vm, "finished");
      vms.put(vm, new AgentVmStatus(vm, VmState.RUNNING, 7777L, req.definition().memoryBytes(), req.memoryGivenBytes(),
          null, req.definition().machineType(), "tcg"));
      json(ctx, 200, new IncomingStatus(req.migrationId(), "finished", "completed", true, "running", 7777L, null));
    });
    r.post("/agent/vms/{name}/outgoing", ctx -> {
      OutgoingRequest req = read(ctx, OutgoingRequest.class);
      outgoing.put(ctx.pathParam("name"), req);
      playing = script;
      played = 0;
      json(ctx, 200, next(ctx.pathParam("name")));
    });
    r.get("/agent/vms/{name}/outgoing", ctx -> {
      if (!outgoing.containsKey(ctx.pathParam("name"))) {
        problem(ctx, Problem.of(404, "not found", "vm " + ctx.pathParam("name") + " has no outgoing migration on this host"));
        return;
      }
      json(ctx, 200, next(ctx.pathParam("name")));
    });
    r.post("/agent/vms/{name}/outgoing/{step}", ctx -> {
      String vm = ctx.pathParam("name");
      MigrationStats s = lastStats;
      switch (ctx.pathParam("step")) {
        case "cancel" -> {
          if (completeBeforeCancel) {
            playing = List.of(stats("completed", "completed", s.ramTotalBytes(), 0, 0, s.passes() + 1, 0L));
            played = 0;
            holdAt = Integer.MAX_VALUE;
            lastStats = withId(playing.getFirst(), s.migrationId());
          }
          if (lastStats != null && lastStats.phase().equals("completed")) {
            problem(ctx, Problem.of(409, "conflict", "migration of vm " + vm + " is completed; roll forward"));
            return;
          }
          lastStats = withPhase(s, "cancelled", "cancelled");
        }
        case "postcopy" -> {
          playing = postcopyScript;
          played = 0;
        }
        case "pause" -> { }
        case "parameters" -> tuned.add(read(ctx, dev.ferry.api.agent.MigrationTuning.class).parameters());
        case "resume" -> resumedTo = read(ctx, dev.ferry.api.agent.PostcopyResume.class).migrationUri();
        case "complete" -> {
          calls.add("delete_source_images=" + ctx.queryParam("delete_source_images"));
          if (completeGate != null) completeGate.await(10, TimeUnit.SECONDS);
          lastStats = withPhase(s, "handed_over", s.status());
          vms.remove(vm);
        }
        default -> {
          problem(ctx, Problem.of(404, "not found", "no step"));
          return;
        }
      }
      json(ctx, 200, lastStats);
    });
  }

  private synchronized MigrationStats next(String vm) {
    MigrationStats s = lastStats;
    boolean over = s != null && List.of("cancelled", "handed_over", "failed").contains(s.phase());
    if (!over && !playing.isEmpty()) {
      int i = Math.min(Math.min(played, holdAt), playing.size() - 1);
      played++;
      s = withId(playing.get(i), outgoing.get(vm).migrationId());
      lastStats = s;
    }
    return s;
  }

  /** Scripted stats: one sample of a migration of 1 GiB of RAM. */
  static MigrationStats stats(String phase, String status, long transferred, long remaining, long dirtyRate, long passes,
      Long expectedDowntimeMs) {
    boolean done = phase.equals("completed");
    return new MigrationStats("?", phase, status, done ? 900L : null, 5L, done ? 42L : null, expectedDowntimeMs,
        transferred, remaining, 1L << 30, dirtyRate, 800.0, passes, 0, List.of(), done ? 55L : null, null, null, null,
        phase.equals("failed") ? "connection reset by the target" : null);
  }

  private static MigrationStats withId(MigrationStats s, String id) {
    return new MigrationStats(id, s.phase(), s.status(), s.totalTimeMs(), s.setupTimeMs(), s.downtimeMs(),
        s.expectedDowntimeMs(), s.ramTransferredBytes(), s.ramRemainingBytes(), s.ramTotalBytes(), s.dirtyRateBytesPerS(),
        s.mbps(), s.passes(), s.postcopyRequests(), s.mirrors(), s.pauseMs(), s.switchoverMs(), s.wallTimeMs(),
        s.elapsedMs(), s.error());
  }

  private static MigrationStats withPhase(MigrationStats s, String phase, String status) {
    return new MigrationStats(s.migrationId(), phase, status, s.totalTimeMs(), s.setupTimeMs(), s.downtimeMs(),
        s.expectedDowntimeMs(), s.ramTransferredBytes(), s.ramRemainingBytes(), s.ramTotalBytes(), s.dirtyRateBytesPerS(),
        s.mbps(), s.passes(), s.postcopyRequests(), s.mirrors(), s.pauseMs(), s.switchoverMs(), s.wallTimeMs(),
        s.elapsedMs(), s.error());
  }

  String url() {
    return "http://127.0.0.1:" + app.port();
  }

  private static MirrorStatus with(MirrorStatus m, String state, long offset, String error) {
    return new MirrorStatus(m.disk(), state, m.sourcePath(), m.sourceFormat(), m.targetPath(), m.targetFormat(), offset,
        m.length(), m.pivotMs(), error);
  }

  AgentHeartbeat heartbeatBody() {
    return new AgentHeartbeat(name, url(), 4, memoryBytes, "8.2.2", "tcg", List.copyOf(pools.values()),
        List.copyOf(vms.values()));
  }

  /** Sends one heartbeat; returns the HTTP status. */
  int heartbeat(String controllerUrl) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create(controllerUrl + "/api/agents/heartbeat"))
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(Json.mapper().writeValueAsBytes(heartbeatBody()))).build();
    return http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  synchronized void startHeartbeats(String controllerUrl, long periodMs) {
    stopHeartbeats();
    beating = timer.scheduleAtFixedRate(() -> {
      try {
        heartbeat(controllerUrl);
      } catch (Exception e) {
        // a real agent logs and retries; so does the fake
      }
    }, 0, periodMs, TimeUnit.MILLISECONDS);
  }

  synchronized void stopHeartbeats() {
    if (beating != null) beating.cancel(false);
    beating = null;
  }

  /** The calls that change something (not GETs), in order. */
  List<String> changes() {
    return calls.stream().filter(c -> !c.startsWith("GET ")).toList();
  }

  @Override
  public void close() {
    stopHeartbeats();
    timer.shutdownNow();
    app.stop();
  }

  private interface VmHandler {
    void handle(AgentVmStatus s) throws Exception;
  }

  private void withVm(Context ctx, VmHandler h) throws Exception {
    AgentVmStatus s = vms.get(ctx.pathParam("name"));
    if (s == null) {
      problem(ctx, Problem.of(404, "not found", "vm '" + ctx.pathParam("name") + "' is not defined here"));
    } else {
      h.handle(s);
    }
  }

  private static <T> T read(Context ctx, Class<T> type) throws Exception {
    return Json.mapper().readValue(ctx.bodyAsBytes(), type);
  }

  private static void json(Context ctx, int status, Object body) throws Exception {
    ctx.status(status).contentType("application/json").result(Json.mapper().writeValueAsString(body));
  }

  private static void problem(Context ctx, Problem p) throws Exception {
    ctx.status(p.status()).contentType(Problem.MEDIA_TYPE).result(Json.mapper().writeValueAsString(p));
  }
}
