package dev.ferry.app.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.Json;
import dev.ferry.api.PoolView;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.controller.store.Store;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code ferry bench load}: simulated hosts heartbeat a real controller process on loopback for a
 * bounded time while SSE clients follow the events (one replaying from id 0 once pruning has run),
 * a sampler times {@code GET /api/vms}, a poller watches every host's state, and half-way a burst of
 * live-migration requests goes to a target that already holds 2 VMs. Every loop stops at the
 * deadline; nothing leaves loopback.
 *
 * <p>Each heartbeat flips one VM (the host's last) between running and paused, so the controller
 * has state changes to write and events to publish and prune, as a busy cluster would.
 */
final class LoadBench {

  /** What to simulate. */
  record Settings(int hosts, int vmsPerHost, Duration interval, Duration duration, Duration hostTimeout,
      long eventMaxCount, int migrationRequests, boolean tls) {
    Settings {
      if (hosts < 1 || hosts > 500) throw new IllegalArgumentException("hosts " + hosts + " is not 1-500");
      if (vmsPerHost < 2 || vmsPerHost > 1000) throw new IllegalArgumentException("vms per host " + vmsPerHost + " is not 2-1000");
      if (migrationRequests > hosts) throw new IllegalArgumentException("migration requests " + migrationRequests + " exceed hosts");
      if (duration.compareTo(Duration.ofMinutes(30)) > 0) throw new IllegalArgumentException("duration is at most 30m");
    }
  }

  private final Path work;
  private final Settings s;
  private final PrintStream log;
  private HttpClient http;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private LoadCluster cluster;

  LoadBench(Path work, Settings settings, PrintStream log) {
    this.work = work;
    this.s = settings;
    this.log = log;
  }

  Map<String, Object> run() throws Exception {
    Map<String, Object> r = new LinkedHashMap<>();
    try (LoadCluster c = new LoadCluster(work, s.tls())) {
      cluster = c;
      http = c.client();
      long t = System.nanoTime();
      c.seed(s.hosts(), s.vmsPerHost());
      log.printf("seeded %d hosts x %d vms (+ target with 2) in %d ms%n", s.hosts(), s.vmsPerHost(), ms(t));
      c.startController(s.hostTimeout(), s.eventMaxCount(), List.of());
      log.println("controller pid " + c.pid() + " at " + c.url());

      List<Long> heartbeatMs = Collections.synchronizedList(new ArrayList<>());
      AtomicLong heartbeatFailures = new AtomicLong();
      List<Long> listMs = Collections.synchronizedList(new ArrayList<>());
      List<Long> walkMs = Collections.synchronizedList(new ArrayList<>());
      Set<String> flapped = ConcurrentHashMap.newKeySet();
      List<String> flapEvents = new CopyOnWriteArrayList<>();
      AtomicLong maxStoreBytes = new AtomicLong();
      List<SseClient> sse = new CopyOnWriteArrayList<>();
      List<Thread> threads = new ArrayList<>();
      warmUp();
      long start = System.nanoTime();
      long end = start + s.duration().toNanos();

      for (int h = 1; h <= s.hosts() + 1; h++) {
        String name = h <= s.hosts() ? LoadCluster.host(h) : LoadCluster.TARGET;
        int vms = h <= s.hosts() ? s.vmsPerHost() : 2;
        long offset = s.interval().toNanos() * (h - 1) / (s.hosts() + 1);
        threads.add(Thread.ofVirtual().start(() -> heartbeats(name, vms, start + offset, end, heartbeatMs, heartbeatFailures)));
      }
      // flaps are counted from the first live client only: the others see the same events
      for (int i = 0; i < 3; i++) {
        sse.add(SseClient.open(http, c.url(), c.token(), null, i == 0 ? flapEvents : new CopyOnWriteArrayList<>()));
      }
      threads.add(Thread.ofVirtual().start(() -> sampleLists(end, listMs, walkMs)));
      threads.add(Thread.ofVirtual().start(() -> pollHosts(end, flapped)));
      threads.add(Thread.ofVirtual().start(() -> {
        while (running.get() && System.nanoTime() < end) {
          maxStoreBytes.accumulateAndGet(c.storeBytes(), Math::max);
          sleepMs(1000);
        }
      }));

      sleepUntil(start + s.duration().toNanos() / 2);
      // the burst waits for admitted migrations' targets (up to 20 s): off the main timeline
      var burst = new java.util.concurrent.CompletableFuture<Map<String, Object>>();
      Thread.ofVirtual().start(() -> {
        try {
          burst.complete(migrationBurst());
        } catch (Exception e) {
          burst.completeExceptionally(e);
        }
      });
      // by two thirds of the run pruning has cut the journal's start, so a replay from 0 meets a gap
      sleepUntil(start + s.duration().toNanos() * 2 / 3);
      SseClient replay = SseClient.open(http, c.url(), c.token(), "0", new CopyOnWriteArrayList<>());
      sse.add(replay);
      sleepUntil(end);
      // from here on heartbeats stop, so hosts going unreachable is expected, not a flap
      sse.forEach(SseClient::stopWatching);
      Map<String, Object> burstReport = burst.get(90, java.util.concurrent.TimeUnit.SECONDS);
      running.set(false);
      for (Thread th : threads) th.join(Duration.ofSeconds(20));
      Map<String, Object> sseReport = new LinkedHashMap<>();
      for (int i = 0; i < sse.size(); i++) {
        SseClient cl = sse.get(i);
        sseReport.put(i == 3 ? "replay_from_0" : "live_" + (i + 1), cl.summary());
        cl.close();
      }
      long logBytes = c.controllerLogBytes();
      int exit = c.stopController();
      long storeBytes = c.storeBytes();
      long events;
      long firstId;
      long lastId;
      try (Store store = Store.open(c.data, null, null, null)) {
        events = store.events().count();
        firstId = store.events().firstId();
        // SQLite's AUTOINCREMENT ids are contiguous, so the newest id follows from the first and the count
        lastId = firstId + events - 1;
      }

      r.put("hosts", s.hosts());
      r.put("vms_per_host", s.vmsPerHost());
      r.put("vms", s.hosts() * s.vmsPerHost() + 2);
      r.put("heartbeat_interval_ms", s.interval().toMillis());
      r.put("duration_s", s.duration().toSeconds());
      r.put("host_timeout_ms", s.hostTimeout().toMillis());
      r.put("tls", s.tls());
      r.put("heartbeats", heartbeatMs.size());
      r.put("heartbeat_failures", heartbeatFailures.get());
      r.put("heartbeat_ms", percentiles(heartbeatMs));
      r.put("host_flaps", flapEvents.size());
      r.put("hosts_seen_not_online", List.copyOf(flapped));
      r.put("flap_events", flapEvents.subList(0, Math.min(10, flapEvents.size())));
      r.put("get_vms_requests", listMs.size());
      r.put("get_vms_ms", percentiles(listMs));
      r.put("get_vms_all_pages_ms", percentiles(walkMs));
      r.put("sse", sseReport);
      r.put("migration_burst", burstReport);
      r.put("events_in_store", events);
      r.put("event_max_count", s.eventMaxCount());
      r.put("last_event_id", lastId);
      r.put("first_event_id_kept", firstId);
      r.put("store_bytes_end", storeBytes);
      r.put("store_bytes_max", maxStoreBytes.get());
      r.put("controller_log_bytes", logBytes);
      r.put("controller_exit", exit);
      r.put("agent_calls", c.agentCalls.get());
    }
    return r;
  }

  /** One simulated host: a heartbeat every interval from {@code first}, until {@code end}. */
  private void heartbeats(String host, int vms, long first, long end, List<Long> ms, AtomicLong failures) {
    byte[][] bodies = bodies(host, vms);
    long next = first;
    for (int n = 0; running.get(); n++) {
      sleepUntil(next);
      if (System.nanoTime() >= end || !running.get()) return;
      long t = System.nanoTime();
      try {
        HttpResponse<String> r = http.send(heartbeat(host).timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(bodies[n % 2])).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) failures.incrementAndGet();
        ms.add(ms(t));
      } catch (Exception e) {
        failures.incrementAndGet();
      }
      next += s.interval().toNanos();
    }
  }

  /** The host's two heartbeats: all VMs running, and the same with its last VM paused. */
  private byte[][] bodies(String host, int vms) {
    byte[][] bodies = new byte[2][];
    for (int variant = 0; variant < 2; variant++) {
      List<AgentVmStatus> statuses = new ArrayList<>(vms);
      for (int i = 0; i < vms; i++) {
        String name = host.equals(LoadCluster.TARGET) ? LoadCluster.TARGET + "-vm-" + i : vmName(host, i);
        boolean flip = i == vms - 1 && !host.equals(LoadCluster.TARGET) && variant == 1;
        statuses.add(new AgentVmStatus(name, flip ? VmState.PAUSED : VmState.RUNNING, 10_000L + i, LoadCluster.VM_MEMORY,
            LoadCluster.VM_MEMORY, null, "pc-q35-8.2", "kvm"));
      }
      var hb = new AgentHeartbeat(host, cluster.agentUrl, 64, 4L << 40, "8.2.2", "kvm",
          List.of(new PoolView("local", host, "/pools/" + host, false, 1L << 40, 1L << 39)), statuses);
      try {
        bodies[variant] = Json.mapper().writeValueAsBytes(hb);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    return bodies;
  }

  private static String vmName(String host, int i) {
    return String.format("%s-vm-%03d", host, i);
  }

  /**
   * One untimed round before the clock starts: every host's connection and TLS handshake, and the
   * controller's first requests (class loading, JIT), which would otherwise count as the run's
   * slowest heartbeats.
   */
  private void warmUp() throws Exception {
    List<Thread> warm = new ArrayList<>();
    for (int h = 1; h <= s.hosts() + 1; h++) {
      String name = h <= s.hosts() ? LoadCluster.host(h) : LoadCluster.TARGET;
      int vms = h <= s.hosts() ? s.vmsPerHost() : 2;
      warm.add(Thread.ofVirtual().start(() -> {
        try {
          http.send(heartbeat(name).timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofByteArray(bodies(name, vms)[0])).build(), HttpResponse.BodyHandlers.discarding());
        } catch (Exception e) {
          log.println("warm-up heartbeat of " + name + " failed: " + e);
        }
      }));
    }
    for (Thread t : warm) t.join(Duration.ofSeconds(90));
    get("/api/vms");
  }

  /** GET /api/vms (the default page) twice a second; every 5th time, every page in turn. */
  private void sampleLists(long end, List<Long> list, List<Long> walk) {
    for (int n = 0; running.get() && System.nanoTime() < end; n++) {
      try {
        long t = System.nanoTime();
        JsonNode page = get("/api/vms");
        list.add(ms(t));
        if (n % 5 == 0) {
          long w = System.nanoTime();
          int total = page.size();
          while (page.size() == dev.ferry.api.Paging.MAX_LIMIT) {
            page = get("/api/vms?after=" + page.get(page.size() - 1).get("name").asText());
            total += page.size();
          }
          walk.add(ms(w));
          if (total != s.hosts() * s.vmsPerHost() + 2) log.println("warning: listed " + total + " vms");
        }
      } catch (Exception e) {
        log.println("GET /api/vms failed: " + e.getMessage());
      }
      sleepMs(500);
    }
  }

  /** Every host's state once a second; a host not online is a flap (the controller gave up on it). */
  private void pollHosts(long end, Set<String> flapped) {
    while (running.get() && System.nanoTime() < end) {
      try {
        for (JsonNode h : get("/api/hosts")) {
          if (!h.get("state").asText().equals("online")) flapped.add(h.get("name").asText());
        }
      } catch (Exception e) {
        log.println("GET /api/hosts failed: " + e.getMessage());
      }
      sleepMs(1000);
    }
  }

  /** {@code n} concurrent live migrations, each of a VM on another host, all to the target. */
  private Map<String, Object> migrationBurst() throws Exception {
    int n = s.migrationRequests();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> senders = new ArrayList<>();
    Map<String, String> answers = new ConcurrentHashMap<>();
    for (int i = 1; i <= n; i++) {
      String vm = vmName(LoadCluster.host(i), 0);
      senders.add(Thread.ofVirtual().start(() -> {
        try {
          go.await();
          String body = "{\"vm\":\"" + vm + "\",\"to\":\"" + LoadCluster.TARGET + "\"}";
          HttpResponse<String> r = http.send(request("/api/migrations/live").timeout(Duration.ofSeconds(60))
              .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
              HttpResponse.BodyHandlers.ofString());
          answers.put(vm, r.statusCode() + " " + detail(r.body()));
        } catch (Exception e) {
          answers.put(vm, "error " + e);
        }
      }));
    }
    go.countDown();
    for (Thread t : senders) t.join(Duration.ofSeconds(70));
    long refusedByLimit = answers.values().stream().filter(a -> a.startsWith("409") && a.contains("at once")).count();
    long admitted = answers.size() - refusedByLimit;
    JsonNode recorded = get("/api/migrations?host=" + LoadCluster.TARGET);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("requests", n);
    m.put("target_vms_before", 2);
    m.put("admitted", admitted);
    m.put("refused_by_per_host_limit", refusedByLimit);
    m.put("recorded_to_target", recorded.size());
    m.put("answers", new java.util.TreeMap<>(answers));
    log.printf("migration burst: %d admitted, %d refused by the per-host limit, %d recorded%n", admitted, refusedByLimit,
        recorded.size());
    return m;
  }

  private static String detail(String body) {
    try {
      JsonNode p = Json.mapper().readTree(body);
      return p.has("detail") ? p.get("detail").asText() : p.has("phase") ? "phase " + p.get("phase").asText() : "";
    } catch (Exception e) {
      return body.length() > 200 ? body.substring(0, 200) : body;
    }
  }

  private JsonNode get(String path) throws Exception {
    HttpResponse<String> r = http.send(request(path).timeout(Duration.ofSeconds(30)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) throw new IllegalStateException("GET " + path + " answered " + r.statusCode() + ": " + r.body());
    return Json.mapper().readTree(r.body());
  }

  /** Each simulated host's own credential, enrolled (as admin) before its first heartbeat. */
  private final Map<String, String> credentials = new java.util.concurrent.ConcurrentHashMap<>();

  private HttpRequest.Builder heartbeat(String host) {
    String credential = credentials.computeIfAbsent(host, h -> {
      try {
        HttpResponse<String> r = http.send(request("/api/hosts/" + h + "/credential").timeout(Duration.ofSeconds(60))
            .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) throw new IllegalStateException("enrolling " + h + " answered " + r.statusCode());
        return Json.mapper().readTree(r.body()).get("credential").asText();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted enrolling " + h, e);
      }
    });
    return HttpRequest.newBuilder(URI.create(cluster.url() + "/api/agents/heartbeat"))
        .header("Authorization", "Bearer " + credential);
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(cluster.url() + path)).header("Authorization", "Bearer " + cluster.token());
  }

  static Map<String, Object> percentiles(List<Long> samples) {
    List<Long> sorted;
    synchronized (samples) {
      sorted = new ArrayList<>(samples);
    }
    Collections.sort(sorted);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("n", sorted.size());
    if (sorted.isEmpty()) return m;
    m.put("p50", sorted.get(sorted.size() / 2));
    m.put("p99", sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(sorted.size() * 0.99) - 1)));
    m.put("max", sorted.getLast());
    return m;
  }

  private static long ms(long sinceNanos) {
    return (System.nanoTime() - sinceNanos) / 1_000_000;
  }

  private static void sleepUntil(long nanos) {
    long left = nanos - System.nanoTime();
    if (left > 0) sleepMs(Math.max(1, left / 1_000_000));
  }

  private static void sleepMs(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

}
