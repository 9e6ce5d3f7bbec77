package dev.ferry.agent.qemu.qmp;

import dev.ferry.api.tls.TlsDir;
import dev.ferry.qmp.QmpErrorException;
import dev.ferry.qmp.export.NbdServerStart;
import dev.ferry.qmp.object.ObjectAdd;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * TLS on the streams between two hosts' QEMUs: the migration stream (and its post-copy
 * recovery) and the NBD connections of copied disks. Both QEMUs read the host's TLS directory
 * (the files the agent's HTTPS uses) through {@code tls-creds-x509} objects with
 * {@code verify-peer}; the listening side (always the target) lets in only the source host's
 * certificate ({@code authz-simple} on its distinguished name {@code CN=SOURCE}), and the
 * connecting side checks that the target's certificate names the address it dialled
 * ({@code tls-hostname}). Without a TLS directory ({@link #OFF}, tests of one agent alone)
 * every method adds nothing.
 *
 * <p>Objects are made once per QEMU and found again by id: a repeated step, or an agent
 * restarted mid-migration, reuses them.
 */
public record StreamTls(TlsDir dir) {

  public static final StreamTls OFF = new StreamTls(null);
  static final String SERVER_CREDS = "ferry-tls-server";
  static final String CLIENT_CREDS = "ferry-tls-client";
  static final String PEER_AUTHZ = "ferry-authz-peer";

  public boolean on() {
    return dir != null;
  }

  /** The distinguished name of a host's certificate, as {@code ferry ca issue} writes it and GnuTLS prints it. */
  public static String identity(String host) {
    return "CN=" + host;
  }

  /**
   * Target: a server credential and an authorization of {@code sourceHost} alone; answers the
   * {@code migrate-set-parameters} members that make the incoming stream (and a later
   * {@code migrate-recover}) use them.
   */
  public Map<String, Object> incoming(Qmp q, String sourceHost) {
    if (!on()) return Map.of();
    ensure(q, ObjectAdd.tlsCredsX509(SERVER_CREDS, dir.dir(), ObjectAdd.Endpoint.SERVER));
    ensure(q, ObjectAdd.authzSimple(PEER_AUTHZ, identity(sourceHost)));
    var p = new LinkedHashMap<String, Object>();
    p.put("tls-creds", SERVER_CREDS);
    p.put("tls-authz", PEER_AUTHZ);
    return p;
  }

  /** Target: the NBD server's TLS, after {@link #incoming}; one connection per export, no more. */
  public NbdServerStart.Tls nbdServer(int exports) {
    return on() ? new NbdServerStart.Tls(SERVER_CREDS, PEER_AUTHZ, exports) : null;
  }

  /**
   * A source serving its own disks to {@code peerHost} (a warm migration): the server credential
   * and an authorization of that host and of this host itself ({@code selfHost}, which hashes its
   * disks through the server), under an id of its own (the peer authorization of an incoming
   * migration may name another host in the same QEMU); answers the NBD server's TLS.
   */
  public NbdServerStart.Tls nbdServerFor(Qmp q, String peerHost, String selfHost) {
    if (!on()) return null;
    ensure(q, ObjectAdd.tlsCredsX509(SERVER_CREDS, dir.dir(), ObjectAdd.Endpoint.SERVER));
    // the host itself too: it hashes its own disks through this server while the target copies them
    String authz = "ferry-authz-warm-" + peerHost;
    ensure(q, ObjectAdd.authzList(authz, java.util.List.of(identity(peerHost), identity(selfHost))));
    return new NbdServerStart.Tls(SERVER_CREDS, authz, 0);
  }

  /**
   * Source: a client credential; answers the {@code migrate-set-parameters} members (or the
   * {@code blockdev-add} nbd members) that make a connection to {@code targetAddress} TLS and
   * check the target's certificate against it.
   */
  public Map<String, Object> outgoing(Qmp q, String targetAddress) {
    if (!on()) return Map.of();
    ensure(q, ObjectAdd.tlsCredsX509(CLIENT_CREDS, dir.dir(), ObjectAdd.Endpoint.CLIENT));
    var p = new LinkedHashMap<String, Object>();
    p.put("tls-creds", CLIENT_CREDS);
    p.put("tls-hostname", unbracketed(targetAddress));
    return p;
  }

  /** The host of a {@code tcp:HOST:PORT} URI, without IPv6 brackets. */
  public static String uriHost(String uri) {
    String rest = uri.startsWith("tcp:") ? uri.substring(4) : uri;
    int colon = rest.lastIndexOf(':');
    return unbracketed(colon < 0 ? rest : rest.substring(0, colon));
  }

  private static String unbracketed(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  /** object-add, unless this QEMU has the object already (a repeated step). */
  private static void ensure(Qmp q, ObjectAdd add) {
    try {
      q.call(add);
    } catch (QmpErrorException e) {
      String d = e.desc().toLowerCase(Locale.ROOT);
      if (!d.contains("duplicate") && !d.contains("already exists")) throw e;
    }
  }
}
