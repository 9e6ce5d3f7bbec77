package dev.ferry.agent.ftpair;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The secondary's end of the pair's heartbeat (docs/ft.md, failure detection): a UDP socket on the
 * replication address that hears the primary's fencer ({@link Fencer}, {@link HeartbeatSender}) and answers each
 * datagram, so the primary knows the path works both ways. What it heard is read by the
 * controller, which alone decides a takeover; this end never acts on silence by itself (a
 * partitioned secondary must not become a second primary).
 *
 * <p>Once the secondary takes over it stops answering first: the old primary then hears nobody
 * and, without the controller, fences its guest.
 */
final class HeartbeatListener implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(HeartbeatListener.class);
  static final int MAX_DATAGRAM = 256;

  private final String vm;
  private final String token;
  private final DatagramSocket socket;
  private final InstantSource clock;
  private final long startedNanos = System.nanoTime();
  private volatile long lastNanos;
  private volatile Instant lastAt;
  private volatile boolean answering = true;

  private HeartbeatListener(String vm, String token, DatagramSocket socket, InstantSource clock) {
    this.vm = vm;
    this.token = token;
    this.socket = socket;
    this.clock = clock;
  }

  static HeartbeatListener open(String vm, String token, String address, int port, InstantSource clock) {
    DatagramSocket s;
    try {
      s = new DatagramSocket(new InetSocketAddress(address, port));
    } catch (IOException e) {
      throw new AgentException(Kind.CONFLICT, "vm " + vm + ": cannot bind the ft heartbeat on udp " + address + ":" + port
          + ": " + e.getMessage(), e);
    }
    var l = new HeartbeatListener(vm, token, s, clock);
    Thread.ofPlatform().daemon().name("ferry-ft-heartbeat-" + vm).start(l::listen);
    return l;
  }

  private void listen() {
    byte[] buf = new byte[MAX_DATAGRAM];
    while (!socket.isClosed()) {
      var packet = new DatagramPacket(buf, buf.length);
      try {
        socket.receive(packet);
      } catch (IOException e) {
        if (!socket.isClosed()) log.warn("ft heartbeat of vm {}: {}", vm, e.getMessage());
        continue;
      }
      String text = new String(packet.getData(), packet.getOffset(), packet.getLength(), StandardCharsets.US_ASCII);
      if (!HeartbeatSender.valid(text, vm, token)) continue;
      lastNanos = System.nanoTime();
      lastAt = clock.instant();
      if (!answering) continue;
      try {
        socket.send(new DatagramPacket(packet.getData(), packet.getOffset(), packet.getLength(), packet.getSocketAddress()));
      } catch (IOException e) {
        log.debug("ft heartbeat of vm {}: answer: {}", vm, e.getMessage());
      }
    }
  }

  /** The primary's last heartbeat; null before the first. */
  Instant lastHeardAt() {
    return lastAt;
  }

  /** Milliseconds since the primary's last heartbeat (since this listener opened before the first). */
  long silentMs() {
    long last = lastAt == null ? startedNanos : lastNanos;
    return (System.nanoTime() - last) / 1_000_000;
  }

  /** Takeover: the old primary must stop hearing this side before the guest runs here. */
  void stopAnswering() {
    answering = false;
  }

  @Override
  public void close() {
    socket.close();
  }
}
