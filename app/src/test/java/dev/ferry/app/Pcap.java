package dev.ferry.app;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Reads what {@code tcpdump -w} wrote on an Ethernet port: the TCP segments and UDP datagrams of
 * IPv4, in capture order. Enough to tell whether a text crossed the wire in clear (searched across
 * segment boundaries, per flow) and to pull one direction of a flow out for a replay. Not a
 * general pcap reader: classic pcap, link type Ethernet, IPv4 only.
 */
final class Pcap {

  /** One direction of a TCP connection, or UDP datagrams between two ports. */
  record Flow(boolean tcp, String src, int sport, String dst, int dport) {
    @Override
    public String toString() {
      return (tcp ? "tcp " : "udp ") + src + ":" + sport + " > " + dst + ":" + dport;
    }
  }

  record Segment(Flow flow, byte[] payload) {}

  private Pcap() {}

  static void read(Path file, Consumer<Segment> each) throws IOException {
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 20);
        DataInputStream in = new DataInputStream(raw)) {
      byte[] global = in.readNBytes(24);
      if (global.length < 24) return; // nothing captured
      ByteOrder order = (global[0] & 0xff) == 0xd4 ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
      int linkType = ByteBuffer.wrap(global, 20, 4).order(order).getInt();
      if (linkType != 1) throw new IOException(file + " is not an Ethernet capture (link type " + linkType + ")");
      byte[] header = new byte[16];
      while (true) {
        try {
          in.readFully(header);
        } catch (EOFException e) {
          return;
        }
        int captured = ByteBuffer.wrap(header, 8, 4).order(order).getInt();
        byte[] frame = in.readNBytes(captured);
        if (frame.length < captured) return; // cut off at the end: tcpdump was stopped mid-write
        Segment s = tcp(frame);
        if (s != null) each.accept(s);
      }
    }
  }

  /** The TCP segment or UDP datagram in an Ethernet frame, or null for anything else (ARP, IPv6). */
  private static Segment tcp(byte[] f) {
    if (f.length < 14 + 20 || (f[12] & 0xff) != 0x08 || f[13] != 0x00) return null;
    int ip = 14;
    int ihl = (f[ip] & 0x0f) * 4;
    int total = ((f[ip + 2] & 0xff) << 8) | (f[ip + 3] & 0xff);
    int proto = f[ip + 9] & 0xff;
    if (proto != 6 && proto != 17 || f.length < ip + ihl + 8) return null;
    int fragmentOffset = ((f[ip + 6] & 0x1f) << 8) | (f[ip + 7] & 0xff);
    if (fragmentOffset != 0) return null; // a later fragment carries no TCP/UDP header to read ports from
    int l4 = ip + ihl;
    int start = proto == 6 ? l4 + ((f[l4 + 12] & 0xf0) >> 4) * 4 : l4 + 8;
    int end = Math.min(f.length, ip + total);
    var flow = new Flow(proto == 6, addr(f, ip + 12), port(f, l4), addr(f, ip + 16), port(f, l4 + 2));
    byte[] payload = start >= end ? new byte[0] : java.util.Arrays.copyOfRange(f, start, end);
    return new Segment(flow, payload);
  }

  /** Every flow with the payload bytes it carried, in capture order (a retransmission counts twice). */
  static Map<Flow, Long> bytesByFlow(Path file) throws IOException {
    Map<Flow, Long> out = new LinkedHashMap<>();
    read(file, s -> out.merge(s.flow(), (long) s.payload().length, Long::sum));
    return out;
  }

  /** Whether {@code text} appears in the payload of a flow {@code which} picks, also split across segments. */
  static boolean containsInClear(Path file, String text, java.util.function.Predicate<Flow> which) throws IOException {
    byte[] needle = text.getBytes(StandardCharsets.US_ASCII);
    Map<Flow, byte[]> tails = new LinkedHashMap<>();
    boolean[] found = {false};
    read(file, s -> {
      if (found[0] || s.payload().length == 0 || !which.test(s.flow())) return;
      byte[] tail = tails.getOrDefault(s.flow(), new byte[0]);
      byte[] joined = new byte[tail.length + s.payload().length];
      System.arraycopy(tail, 0, joined, 0, tail.length);
      System.arraycopy(s.payload(), 0, joined, tail.length, s.payload().length);
      if (indexOf(joined, needle) >= 0) found[0] = true;
      int keep = Math.min(needle.length - 1, joined.length);
      tails.put(s.flow(), java.util.Arrays.copyOfRange(joined, joined.length - keep, joined.length));
    });
    return found[0];
  }

  /** The first {@code limit} payload bytes {@code flow} carried, in capture order. */
  static byte[] payload(Path file, Flow flow, int limit) throws IOException {
    var out = new ByteArrayOutputStream();
    read(file, s -> {
      if (s.flow().equals(flow) && out.size() < limit) out.write(s.payload(), 0, Math.min(s.payload().length, limit - out.size()));
    });
    return out.toByteArray();
  }

  static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) continue outer;
      }
      return i;
    }
    return -1;
  }

  private static String addr(byte[] f, int at) {
    return (f[at] & 0xff) + "." + (f[at + 1] & 0xff) + "." + (f[at + 2] & 0xff) + "." + (f[at + 3] & 0xff);
  }

  private static int port(byte[] f, int at) {
    return ((f[at] & 0xff) << 8) | (f[at + 1] & 0xff);
  }
}
