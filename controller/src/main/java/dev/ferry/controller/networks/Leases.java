package dev.ferry.controller.networks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Guest addresses from the lease files of the DHCP servers Ferry runs (dnsmasq's format: one lease
 * per line, {@code EXPIRY MAC IP HOSTNAME CLIENT-ID}). A file is parsed again only when it changed,
 * so a {@code vm list} of many VMs costs one stat per network. A missing or unreadable file means
 * no address is known, never an error.
 */
public final class Leases {

  private record Parsed(long modified, Map<String, String> ipByMac) {}

  private final Map<String, Path> files;
  private final Map<String, Parsed> cache = new ConcurrentHashMap<>();

  public Leases(Map<String, Path> files) {
    this.files = Map.copyOf(files);
  }

  public static Leases none() {
    return new Leases(Map.of());
  }

  /** The address the DHCP server of {@code network} leased to {@code mac}, if Ferry serves DHCP there. */
  public Optional<String> ip(String network, String mac) {
    Path file = files.get(network);
    if (file == null || mac == null) return Optional.empty();
    long modified;
    try {
      modified = Files.getLastModifiedTime(file).toMillis();
    } catch (IOException e) {
      return Optional.empty();
    }
    Parsed p = cache.get(network);
    if (p == null || p.modified() != modified) {
      p = new Parsed(modified, parse(file));
      cache.put(network, p);
    }
    return Optional.ofNullable(p.ipByMac().get(mac.toLowerCase(java.util.Locale.ROOT)));
  }

  static Map<String, String> parse(Path file) {
    Map<String, String> out = new HashMap<>();
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException | java.io.UncheckedIOException e) {
      return out;
    }
    for (String line : lines) {
      String[] f = line.strip().split("\\s+");
      // IPv4 leases only: dnsmasq writes "duid ..." and IPv6 lines with another layout
      if (f.length >= 3 && f[1].matches("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}") && f[2].matches("\\d+\\.\\d+\\.\\d+\\.\\d+")) {
        out.put(f[1].toLowerCase(java.util.Locale.ROOT), f[2]);
      }
    }
    return out;
  }
}
