package dev.ferry.agent.ftpair;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary's end of the pair's heartbeat, run by the VM's {@link Fencer} process: every
 * {@link #INTERVAL} a datagram to the secondary's {@link HeartbeatListener}, sent only while the
 * primary's QEMU runs (a dead or fenced QEMU must fall silent too), and the answers it gets back. After each round it calls
 * {@code afterRound}, where the primary decides whether to fence.
 *
 * <p>Datagrams read {@code ferry-ft VM TOKEN SEQ}; the token comes from the secondary's agent
 * through the controller, so nothing else keeps the secondary believing the primary lives.
 */
final class HeartbeatSender implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(HeartbeatSender.class);
  static final Duration INTERVAL = Duration.ofMillis(100);
  static final String PREFIX = "ferry-ft ";

  private final String vm;
  private final String token;
  private final InetSocketAddress peer;
  private final BooleanSupplier qemuAlive;
  private final Runnable afterRound;
  private final DatagramSocket socket;
  private final long startedNanos = System.nanoTime();
  private volatile long lastAnswerNanos;
  private volatile boolean answered;

  HeartbeatSender(String vm, String token, String address, int port, BooleanSupplier qemuAlive, Runnable afterRound)
      throws IOException {
    this.vm = vm;
    this.token = token;
    this.peer = new InetSocketAddress(address, port);
    this.qemuAlive = qemuAlive;
    this.afterRound = afterRound;
    this.socket = new DatagramSocket();
    socket.setSoTimeout((int) INTERVAL.toMillis());
    Thread.ofPlatform().daemon().name("ferry-ft-heartbeat-" + vm).start(this::run);
  }

  static boolean valid(String text, String vm, String token) {
    String[] parts = text.split(" ");
    return parts.length == 4 && text.startsWith(PREFIX) && parts[1].equals(vm) && parts[2].equals(token);
  }

  private void run() {
    byte[] buf = new byte[HeartbeatListener.MAX_DATAGRAM];
    long seq = 0;
    while (!socket.isClosed()) {
      long roundEnd = System.nanoTime() + INTERVAL.toNanos();
      try {
        if (qemuAlive.getAsBoolean()) {
          byte[] ping = (PREFIX + vm + " " + token + " " + (++seq)).getBytes(StandardCharsets.US_ASCII);
          socket.send(new DatagramPacket(ping, ping.length, peer));
        }
        // answers until the next round is due
        while (!socket.isClosed()) {
          long left = (roundEnd - System.nanoTime()) / 1_000_000;
          if (left <= 0) break;
          socket.setSoTimeout((int) left);
          var packet = new DatagramPacket(buf, buf.length);
          try {
            socket.receive(packet);
          } catch (SocketTimeoutException e) {
            break;
          }
          String text = new String(packet.getData(), 0, packet.getLength(), StandardCharsets.US_ASCII);
          if (valid(text, vm, token) && packet.getSocketAddress().equals(peer)) {
            lastAnswerNanos = System.nanoTime();
            answered = true;
          }
        }
      } catch (IOException e) {
        if (!socket.isClosed()) log.debug("ft heartbeat of vm {} to {}: {}", vm, peer, e.getMessage());
        sleepRest(roundEnd);
      }
      try {
        afterRound.run();
      } catch (RuntimeException e) {
        log.warn("ft heartbeat of vm {}: {}", vm, e.toString());
      }
    }
  }

  private static void sleepRest(long roundEnd) {
    long left = (roundEnd - System.nanoTime()) / 1_000_000;
    if (left <= 0) return;
    try {
      Thread.sleep(left);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Milliseconds since the secondary last answered (since this sender started before the first answer). */
  long silentMs() {
    return (System.nanoTime() - (answered ? lastAnswerNanos : startedNanos)) / 1_000_000;
  }

  @Override
  public void close() {
    socket.close();
  }
}
