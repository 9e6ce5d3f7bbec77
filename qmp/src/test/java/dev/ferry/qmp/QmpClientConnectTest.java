package dev.ferry.qmp;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QmpClientConnectTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  @TempDir
  Path dir;

  @Test
  void connect_qemuGreets_negotiatesCapabilitiesAndKeepsTheGreeting() throws Exception {
    try (FakeQmpServer qemu = FakeQmpServer.start(dir);
        QmpClient client = QmpClient.connect(qemu.socket(), TIMEOUT)) {
      assertThat(client.isOpen()).isTrue();
      assertThat(client.socket()).isEqualTo(qemu.socket());
      assertThat(client.greeting()).isEqualTo(new QmpGreeting(
          new VersionInfo(7, 2, 22, "Debian 1:7.2+dfsg-7+deb12u18+b3"), List.of("oob")));
      assertThat(qemu.received()).containsExactly("{\"execute\":\"qmp_capabilities\",\"id\":1}");
    }
  }

  @Test
  void connect_noSuchSocketFile_failsAtOnceWithConnectionException() {
    Path absent = dir.resolve("absent.sock");

    assertThatThrownBy(() -> QmpClient.connect(absent, TIMEOUT))
        .isInstanceOfSatisfying(QmpConnectionException.class, e -> {
          assertThat(e.socket()).isEqualTo(absent);
          assertThat(e).hasMessageStartingWith("cannot connect to qmp socket " + absent + ": ");
        });
  }

  @Test
  void connect_staleSocketFileNobodyListensOn_failsAtOnceWithConnectionException()
      throws Exception {
    Path stale = dir.resolve("stale.sock");
    try (ServerSocketChannel gone = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      // closing leaves the file behind, as a QEMU that died does
      gone.bind(UnixDomainSocketAddress.of(stale));
    }

    assertThatThrownBy(() -> QmpClient.connect(stale, TIMEOUT))
        .isInstanceOf(QmpConnectionException.class)
        .hasMessageContaining("cannot connect to qmp socket " + stale)
        .hasMessageContaining("refused");
  }

  @Test
  void connect_serverNeverGreets_failsWithTimeoutExceptionAfterTheTimeout() throws Exception {
    try (FakeQmpServer silent = FakeQmpServer.silent(dir)) {
      Duration timeout = Duration.ofMillis(200);
      long start = System.nanoTime();

      assertThatThrownBy(() -> QmpClient.connect(silent.socket(), timeout))
          .isInstanceOfSatisfying(QmpTimeoutException.class, e -> {
            assertThat(e.command()).isEmpty();
            assertThat(e.deadline()).isEqualTo(timeout);
            assertThat(e).hasMessage("no qmp greeting from %s within 200 ms", silent.socket());
          });
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(timeout, TIMEOUT);
    }
  }

  @Test
  void connect_peerIsNotQmp_failsWithProtocolException() throws Exception {
    Path path = dir.resolve("ssh.sock");
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(path));
      Thread.ofVirtual().start(() -> {
        try (SocketChannel peer = server.accept()) {
          peer.write(ByteBuffer.wrap("SSH-2.0-OpenSSH_9.2\r\n".getBytes(UTF_8)));
          peer.read(ByteBuffer.allocate(1)); // until the client hangs up
        } catch (Exception e) {
          // the test asserts on the client side
        }
      });

      assertThatThrownBy(() -> QmpClient.connect(path, TIMEOUT))
          .isInstanceOfSatisfying(QmpProtocolException.class, e -> {
            assertThat(e).hasMessageStartingWith("malformed qmp message from " + path);
            assertThat(e.excerpt()).isEqualTo("SSH-2.0-OpenSSH_9.2");
          });
    }
  }
}
