package dev.ferry.agent.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ferry.agent.qemu.qmp.StreamTls;
import dev.ferry.api.tls.TlsDir;
import dev.ferry.qmp.QmpErrorException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The QMP a target and a source send to put their streams under TLS, and what a repeat sends. */
class StreamTlsTest {

  private static final String OK = "{\"return\": {}}";
  private static final String DUPLICATE = "{\"error\": {\"class\": \"GenericError\","
      + " \"desc\": \"attempt to add duplicate property 'ferry-tls-server' to object (type 'container')\"}}";

  @TempDir Path dir;

  @Test
  void incoming_serverCredsAndOnlyTheSourceHostsIdentity_repeatReusesThem() throws Exception {
    var tls = new StreamTls(new TlsDir(dir.resolve("tls")));
    try (var qemu = new ScriptedQmp(dir, OK, OK, DUPLICATE, DUPLICATE)) {
      Map<String, Object> first = tls.incoming(qemu.qmp(), "host1");
      Map<String, Object> again = tls.incoming(qemu.qmp(), "host1");

      assertEquals(Map.of("tls-creds", "ferry-tls-server", "tls-authz", "ferry-authz-peer"), first);
      assertEquals(first, again);
      var creds = qemu.received().get(0).get("arguments");
      assertEquals("tls-creds-x509", creds.get("qom-type").asText());
      assertEquals("server", creds.get("endpoint").asText());
      assertEquals(dir.resolve("tls").toString(), creds.get("dir").asText());
      assertEquals(true, creds.get("verify-peer").asBoolean());
      var authz = qemu.received().get(1).get("arguments");
      assertEquals("authz-simple", authz.get("qom-type").asText());
      assertEquals("CN=host1", authz.get("identity").asText());
      assertEquals(1, tls.nbdServer(1).maxConnections());
    }
  }

  @Test
  void outgoing_clientCredsAndTheAddressDialledAsHostname() throws Exception {
    var tls = new StreamTls(new TlsDir(dir.resolve("tls")));
    try (var qemu = new ScriptedQmp(dir, OK)) {
      assertEquals(Map.of("tls-creds", "ferry-tls-client", "tls-hostname", "fd00::2"),
          tls.outgoing(qemu.qmp(), StreamTls.uriHost("tcp:[fd00::2]:49152")));
      assertEquals("client", qemu.received().get(0).at("/arguments/endpoint").asText());
    }
    assertEquals("10.0.0.2", StreamTls.uriHost("tcp:10.0.0.2:49152"));
  }

  @Test
  void objectRefused_otherwise_propagates() throws Exception {
    var tls = new StreamTls(new TlsDir(dir.resolve("tls")));
    try (var qemu = new ScriptedQmp(dir, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Unable to access"
        + " credentials " + dir + "/tls/ca-cert.pem: No such file or directory\"}}")) {
      var e = assertThrows(QmpErrorException.class, () -> tls.incoming(qemu.qmp(), "host1"));
      assertEquals(true, e.desc().contains("ca-cert.pem"));
    }
  }

  @Test
  void off_sendsNothing() throws Exception {
    try (var qemu = new ScriptedQmp(dir)) {
      assertEquals(Map.of(), StreamTls.OFF.incoming(qemu.qmp(), "host1"));
      assertEquals(Map.of(), StreamTls.OFF.outgoing(qemu.qmp(), "10.0.0.2"));
      assertNull(StreamTls.OFF.nbdServer(1));
      assertEquals(0, qemu.received().size());
    }
  }
}
