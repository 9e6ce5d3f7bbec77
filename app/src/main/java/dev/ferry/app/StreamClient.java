package dev.ferry.app;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One TCP connection to the test guest's stream service ({@code ferry-workload stream}), held by a
 * client process in the network's namespace whose stdin and stdout this class drives: it sends
 * {@code c<k>} every 100 ms and checks every line it receives, {@code n=<counter> echo=<token>}:
 * counters consecutive from 0 (no gap, duplicate or reorder) and echoes of tokens it sent, in
 * order. It records the longest silence between two lines since the last {@link #mark}, and when
 * each line arrived (wall clock, to set against the agents' timestamps of a switchover). The tests
 * (NetworkIT), {@code ferry demo} and {@code ferry bench live} hold their connection through it.
 */
public final class StreamClient implements AutoCloseable {

  private static final Pattern LINE = Pattern.compile("n=(\\d+) echo=(\\S+)");

  private final Process process;
  private final Thread reader;
  private final Thread writer;
  private final List<String> problems = new ArrayList<>();
  private long expected;
  private long lastEcho = -1;
  private volatile long sent;
  private long lastArrival;
  private long maxSilence;
  /** the arrival of the line that ended the longest silence */
  private Instant maxSilenceEnd;
  /** arrivals since the last mark, in microseconds since the epoch */
  private final List<Long> arrivals = new ArrayList<>();
  private long received;
  private volatile boolean closed;
  /** when each token was sent (System.nanoTime), until its echo comes */
  private final java.util.Map<Long, Long> sentAt = new java.util.concurrent.ConcurrentHashMap<>();
  /** how long each echo since the last mark took: token sent to the line carrying it, in milliseconds */
  private final List<Double> echoMs = new ArrayList<>();

  /** Drives {@code process}, a client such as {@code ip netns exec NS busybox nc IP 7000}, from now on. */
  public StreamClient(Process process) {
    this.process = process;
    this.reader = Thread.ofPlatform().daemon().name("stream-reader").start(this::read);
    this.writer = Thread.ofPlatform().daemon().name("stream-writer").start(this::write);
  }

  private void read() {
    try (var in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII))) {
      for (String line; (line = in.readLine()) != null; ) {
        long t = System.nanoTime();
        Instant wall = Instant.now().truncatedTo(ChronoUnit.MICROS);
        synchronized (this) {
          if (received > 0 && t - lastArrival > maxSilence) {
            maxSilence = t - lastArrival;
            maxSilenceEnd = wall;
          }
          lastArrival = t;
          arrivals.add(ChronoUnit.MICROS.between(Instant.EPOCH, wall));
          received++;
          Matcher m = LINE.matcher(line);
          if (!m.matches()) {
            problem("unexpected line '" + line + "'");
            continue;
          }
          long n = Long.parseLong(m.group(1));
          if (n != expected) problem("line " + n + " where " + expected + " was due (gap, duplicate or reorder)");
          expected = n + 1;
          String echo = m.group(2);
          if (!echo.equals("-")) {
            long k = echo.startsWith("c") ? Long.parseLong(echo.substring(1)) : -2;
            if (k < lastEcho || k >= sent) problem("echo '" + echo + "' after c" + lastEcho + " with c" + (sent - 1) + " sent last");
            Long at = k > lastEcho ? sentAt.remove(k) : null;
            if (at != null && echoMs.size() < 100_000) echoMs.add((t - at) / 1e6);
            final long echoed = k;
            sentAt.keySet().removeIf(x -> x < echoed); // tokens the guest skipped are never echoed
            lastEcho = Math.max(lastEcho, k);
          }
        }
      }
      if (!closed) synchronized (this) { problem("the connection ended (reset or closed by the guest)"); }
    } catch (IOException | RuntimeException e) {
      if (!closed) synchronized (this) { problem("reading failed: " + e); }
    }
  }

  private void write() {
    OutputStream out = process.getOutputStream();
    try {
      while (!closed) {
        long k = sent;
        sentAt.put(k, System.nanoTime());
        sent = k + 1; // counted before it can be echoed
        out.write(("c" + k + "\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        Thread.sleep(100);
      }
    } catch (IOException e) {
      if (!closed) synchronized (this) { problem("writing failed: " + e); }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void problem(String p) {
    if (problems.size() < 20) problems.add(p);
  }

  /** Starts a new silence measurement; returns the lines received so far. */
  public synchronized long mark() {
    maxSilence = 0;
    maxSilenceEnd = null;
    arrivals.clear();
    echoMs.clear();
    return received;
  }

  public synchronized long received() {
    return received;
  }

  synchronized long lastEcho() {
    return lastEcho;
  }

  /** The longest time between two received lines since {@link #mark}, in milliseconds. */
  public synchronized double maxSilenceMs() {
    return maxSilence / 1e6;
  }

  /** When the line that ended the longest silence since {@link #mark} arrived; null before two lines. */
  public synchronized Instant maxSilenceEnd() {
    return maxSilenceEnd;
  }

  /** When the first line at or after {@code t} arrived, among those since {@link #mark}; null if none yet. */
  public synchronized Instant firstLineAfter(Instant t) {
    long from = ChronoUnit.MICROS.between(Instant.EPOCH, t);
    for (long a : arrivals) {
      if (a >= from) return Instant.EPOCH.plus(a, ChronoUnit.MICROS);
    }
    return null;
  }

  /**
   * The silence around {@code t}: from the last line before it to the first at or after it, in
   * milliseconds, among the lines since {@link #mark}; null without a line on either side.
   */
  public synchronized Double silenceAcross(Instant t) {
    long at = ChronoUnit.MICROS.between(Instant.EPOCH, t);
    long before = -1;
    for (long a : arrivals) {
      if (a >= at) return before < 0 ? null : (a - before) / 1e3;
      before = a;
    }
    return null;
  }

  /**
   * The request latency since {@link #mark}: for each token {@code c<k>} sent, the time until the
   * first line echoing it arrived, in milliseconds (the guest echoes on its next line, every 10 ms).
   */
  public synchronized List<Double> echoLatenciesMs() {
    return List.copyOf(echoMs);
  }

  /** Gaps, duplicates, reorders, foreign lines and a connection that ended; empty while all is well. */
  public synchronized List<String> problems() {
    return List.copyOf(problems);
  }

  @Override
  public void close() {
    closed = true;
    writer.interrupt();
    // the client (ip netns exec ... nc) is the CLI's child: end it first, by its pid
    process.descendants().forEach(ProcessHandle::destroy);
    process.destroy();
    try {
      reader.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    process.destroyForcibly();
  }
}
