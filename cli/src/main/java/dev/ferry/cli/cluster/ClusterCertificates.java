package dev.ferry.cli.cluster;

import dev.ferry.api.tls.TlsDir;
import dev.ferry.cli.ca.ClusterCa;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The local cluster's CA ({@code DIR/ca}) and one certificate per component, each in the TLS
 * directory the component is started with ({@code controller/tls}, {@code hosts/hostN/tls}). Every
 * component listens on 127.0.0.1, so each certificate names that, {@code localhost} and the
 * component's name. What exists is kept: a later {@code up} reuses the CA and the certificates,
 * and only issues for hosts that are new.
 */
record ClusterCertificates(ClusterLayout layout) {

  static final List<String> LOCAL_NAMES = List.of("127.0.0.1", "localhost");

  static Path caFile(ClusterLayout layout) {
    return layout.caDir().resolve(ClusterCa.CA_CERT);
  }

  void ensure(int hosts) {
    ClusterCa ca = ClusterCa.loadOrInit(layout.caDir(), "ferry local cluster CA (" + layout.dir().getFileName() + ")");
    ensure(ca, "controller");
    for (int i = 1; i <= hosts; i++) ensure(ca, ClusterLayout.hostName(i));
  }

  private void ensure(ClusterCa ca, String component) {
    TlsDir tls = new TlsDir(layout.tlsDir(component));
    if (Files.isRegularFile(tls.serverCert()) && Files.isRegularFile(tls.serverKey())) return;
    ca.issue(component, LOCAL_NAMES, tls.dir());
  }
}
