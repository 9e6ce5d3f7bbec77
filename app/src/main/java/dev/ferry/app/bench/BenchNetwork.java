package dev.ferry.app.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.Json;
import dev.ferry.api.agent.AgentNic;
import dev.ferry.api.agent.IncomingStatus;
import dev.ferry.app.StreamClient;
import dev.ferry.cli.cluster.LocalNetwork;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The live benchmark's network: made for one run exactly as {@code ferry cluster up} makes
 * network {@code default} ({@link LocalNetwork}: a bridge without address, a namespace holding the
 * gateway and dnsmasq, an {@code unreachable} route; names from a digest of the run's work
 * directory, so never those of a cluster on this machine), registered with the bench's controller,
 * and removed when the bench ends, failed or not. Each guest gets a NIC on it; a client in the
 * namespace holds one connection to the guest's stream service across the migration
 * ({@link StreamClient}), and {@link #measure} says what it saw.
 */
final class BenchNetwork implements AutoCloseable {

  private static final Pattern NET = Pattern.compile("FERRY NET iface=eth0 ip=(\\S+) mac=(\\S+)");
  private static final Duration ADDRESS = Duration.ofSeconds(90);
  /** lines to see before the migration (1 s) and after it, once the guest runs on the target */
  private static final int LINES = 100;

  private final LocalNetwork net;
  private final PrintStream log;

  private BenchNetwork(LocalNetwork net, PrintStream log) {
    this.net = net;
    this.log = log;
  }

  /** The network made for this run under {@code work}, or null with the reason logged and in {@code report}. */
  static BenchNetwork create(Path work, Map<String, Object> report, PrintStream log) {
    String why = LocalNetwork.cannotCreate();
    if (why == null) {
      try {
        BenchNetwork n = new BenchNetwork(LocalNetwork.create(work), log);
        report.put("network", "bridge " + n.net.bridge() + ", subnet " + n.net.subnet() + ", client in namespace "
            + n.net.namespace());
        return n;
      } catch (RuntimeException e) {
        why = "making it failed: " + e.getMessage();
      }
    }
    report.put("network", null);
    report.put("no_network_because", why);
    log.println("no network for the guests (" + why + "): the silence columns stay empty");
    return null;
  }

  /** {@code ferry network create}, once the hosts are online. */
  void register(FerryCli ferry) {
    ferry.run("network", "create", LocalNetwork.DEFAULT, "--bridge", net.bridge());
  }

  String name() {
    return LocalNetwork.DEFAULT;
  }

  /** A NIC for a guest the bench defines on an agent itself, with a locally administered MAC of its own. */
  AgentNic nic(int run) {
    return new AgentNic(LocalNetwork.DEFAULT, net.bridge(), String.format("02:fe:00:00:00:%02x", run), null);
  }

  /** Waits for the guest's DHCP address on its console, connects, and returns once 100 lines came; silence counts from then. */
  StreamClient connect(Path console, String mac) throws Exception {
    String ip = address(console, mac);
    var client = new StreamClient(new ProcessBuilder("ip", "netns", "exec", net.namespace(), "/bin/busybox", "nc", ip,
        "7000").redirectError(ProcessBuilder.Redirect.DISCARD).start());
    try {
      await(client, LINES, "before the migration");
    } catch (RuntimeException e) {
      client.close();
      throw e;
    }
    client.mark();
    return client;
  }

  private static String address(Path console, String mac) throws Exception {
    long until = System.nanoTime() + ADDRESS.toNanos();
    while (System.nanoTime() < until) {
      if (Files.exists(console)) {
        Matcher m = NET.matcher(Files.readString(console));
        while (m.find()) {
          if (m.group(2).equalsIgnoreCase(mac)) return m.group(1);
        }
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("no DHCP address for " + mac + " on " + console + " within " + ADDRESS.toSeconds() + " s");
  }

  private static void await(StreamClient client, long count, String when) throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (client.received() < count && client.problems().isEmpty() && System.nanoTime() < until) Thread.sleep(20);
    if (client.received() < count) {
      throw new IllegalStateException("the client got " + client.received() + " lines " + when + ": " + client.problems());
    }
  }

  /**
   * What the client saw of the migration, once 100 more lines came (or 30 s passed): the longest
   * silence and how it compares with QEMU's downtime, whether the stream stayed clean, and, after a
   * switchover, the time from the target's resume to the first line, with the source's STOP →
   * completed and completed → target resume from the agents' timestamps.
   *
   * @param source the source agent's data directory, where it keeps the record of a handed-over migration
   */
  void measure(StreamClient client, Map<String, Object> out, Path source, String vm, IncomingStatus target)
      throws InterruptedException {
    long seen = client.received();
    try {
      await(client, seen + LINES, "after the migration");
    } catch (IllegalStateException e) {
      log.println("   " + e.getMessage());
    }
    double silence = client.maxSilenceMs();
    out.put("silence_ms", StorageBench.round(silence));
    // QEMU sometimes reports a downtime of 0 for a completed run; then the source's own STOP → completed stands in
    Object downtime = out.get("downtime_qemu_ms") instanceof Number d && d.longValue() > 0 ? d : out.get("pause_ms");
    if (downtime instanceof Number d) {
      out.put("silence_minus_downtime_ms", StorageBench.round(silence - d.doubleValue()));
      if (d != out.get("downtime_qemu_ms")) out.put("silence_compared_with", "the observed pause: qemu reported a downtime of 0");
    }
    List<String> problems = client.problems();
    out.put("stream_clean", problems.isEmpty());
    if (!problems.isEmpty()) out.put("stream_problems", problems);
    if (target == null) return;
    if (target.networkAnnounce() != null) out.put("network_announce", target.networkAnnounce());
    Instant resumed = target.resumedAt();
    if (resumed == null) return;
    Instant first = client.firstLineAfter(resumed);
    if (first != null) out.put("first_reply_after_resume_ms", millis(resumed, first));
    Double across = client.silenceAcross(resumed);
    if (across != null) out.put("silence_at_switchover_ms", StorageBench.round(across));
    Instant silenceEnd = client.maxSilenceEnd();
    if (silenceEnd != null) out.put("silence_ended_after_resume_ms", millis(resumed, silenceEnd));
    JsonNode rec = handedOver(source, vm);
    if (rec == null) return;
    Instant stopped = instant(rec.get("stopped_at"));
    Instant completed = instant(rec.get("ended_at"));
    if (stopped != null) out.put("source_stop_to_target_resume_ms", millis(stopped, resumed));
    if (completed != null) out.put("completed_to_target_resume_ms", millis(completed, resumed));
  }

  /** The source agent's record of the migration it handed over, or null. */
  private JsonNode handedOver(Path source, String vm) {
    Path f = source.resolve("migrations").resolve(vm + ".json");
    try {
      return Files.exists(f) ? Json.mapper().readTree(f.toFile()) : null;
    } catch (IOException e) {
      log.println("   cannot read " + f + ": " + e.getMessage());
      return null;
    }
  }

  private static Instant instant(JsonNode n) {
    return n == null || n.isNull() ? null : Json.mapper().convertValue(n, Instant.class);
  }

  private static double millis(Instant from, Instant to) {
    return StorageBench.round(Duration.between(from, to).toNanos() / 1e6);
  }

  @Override
  public void close() {
    List<String> left = net.remove();
    if (!left.isEmpty()) log.println("the bench's network was not removed completely: " + left);
  }
}
