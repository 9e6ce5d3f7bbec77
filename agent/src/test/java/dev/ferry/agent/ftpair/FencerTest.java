package dev.ferry.agent.ftpair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.api.agent.FtProtectRequest;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fencer as a real process (docs/ft.md, failure detection): started by a JVM that then exits
 * (an agent gone), it keeps heartbeating a secondary (a UDP socket here that answers as the
 * secondary's agent does), is found again from its pid file, does not fence while either the
 * secondary answers or the agent relays the controller, and once both are silent stops the guest
 * (a real {@code sleep} process standing in for QEMU) with SIGSTOP by pid and falls silent.
 */
class FencerTest {

  @TempDir Path dir;
  Process guest;
  DatagramSocket secondary;
  volatile boolean answering = true;
  final AtomicInteger heard = new AtomicInteger();

  @AfterEach
  void cleanUp() {
    FencerProcess.live(dir).ifPresent(ProcessHandle::destroyForcibly);
    if (guest != null) guest.destroyForcibly(); // SIGKILL ends a stopped process too
    if (secondary != null) secondary.close();
  }

  @Test
  void outlivesItsAgent_heartbeats_fencesTheGuestOnlyWhenSecondaryAndControllerAreBothSilent() throws Exception {
    guest = new ProcessBuilder("sleep", "120").start();
    secondary = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    Thread.ofPlatform().daemon().start(this::answer);
    var req = new FtProtectRequest("host2", "127.0.0.1", 1, 2, 100, secondary.getLocalPort(), "tok");

    // the "agent": a JVM that starts the fencer, armed, and exits
    Process agent = new ProcessBuilder(javaCommand(FencerLaunch.class.getName(), "web", "127.0.0.1",
        Integer.toString(secondary.getLocalPort()), Long.toString(guest.pid()), dir.toString())).inheritIO().start();
    assertThat(agent.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(agent.exitValue()).isZero();
    long fencerPid = FencerProcess.live(dir).orElseThrow().pid();
    assertThat(fencerPid).isNotEqualTo(agent.pid());

    // the agent is gone (the controller unheard since), the secondary answers: heartbeats go on, no fence
    await().atMost(Duration.ofSeconds(20)).until(() -> heard.get() >= 5);
    Thread.sleep(1000);
    assertThat(heard.get()).as("heartbeats while no agent runs").isGreaterThanOrEqualTo(12);
    assertThat(Fencer.stopped(guest.pid())).as("the secondary answers: no fence").isFalse();
    assertThat(FencerProcess.readState(dir).fencedAt()).isNull();

    // the secondary falls silent, but an agent (restarted) relays the controller: no fence
    answering = false;
    var adopted = FencerProcess.startOrAdopt("web", req, guest.pid(), dir, true);
    assertThat(adopted.alive()).as("adopted by its pid file, not started again").isTrue();
    assertThat(FencerProcess.live(dir).orElseThrow().pid()).isEqualTo(fencerPid);
    long lastRelay = 0;
    for (int i = 0; i < 12; i++) {
      adopted.heardController();
      lastRelay = System.nanoTime();
      Thread.sleep(100);
    }
    assertThat(Fencer.stopped(guest.pid())).as("the controller is heard: no fence").isFalse();
    assertThat(adopted.secondarySilentMs()).isGreaterThanOrEqualTo(900L);

    // both silent: the guest is stopped by pid after FENCE_AFTER, and the heartbeats stop
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10)).until(() -> Fencer.stopped(guest.pid()));
    long fencedAfterMs = (System.nanoTime() - lastRelay) / 1_000_000;
    assertThat(fencedAfterMs).isGreaterThanOrEqualTo(Fencer.FENCE_AFTER.toMillis());
    assertThat(guest.isAlive()).isTrue();
    // recorded right after the kill -STOP returned
    await().atMost(Duration.ofSeconds(2)).until(() -> FencerProcess.readState(dir).fencedAt() != null);
    var st = FencerProcess.readState(dir);
    assertThat(st.reason()).contains("heard neither the secondary");
    await().atMost(Duration.ofSeconds(5)).until(() -> FencerProcess.live(dir).isEmpty());
    int after = heard.get();
    Thread.sleep(300);
    assertThat(heard.get()).as("a fenced guest's fencer is silent").isEqualTo(after);
    System.out.printf("fencer: guest seen stopped %d ms after the agent's last relay of the controller%n",
        fencedAfterMs);
  }

  @Test
  void fencerEndsWhenItsGuestExits_andSendsNothingForAStoppedGuest() throws Exception {
    guest = new ProcessBuilder("sleep", "120").start();
    secondary = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    Thread.ofPlatform().daemon().start(this::answer);
    var req = new FtProtectRequest("host2", "127.0.0.1", 1, 2, 100, secondary.getLocalPort(), "tok");
    var f = FencerProcess.startOrAdopt("web", req, guest.pid(), dir, false);
    await().atMost(Duration.ofSeconds(20)).until(() -> heard.get() >= 3);

    new ProcessBuilder("kill", "-STOP", Long.toString(guest.pid())).start().waitFor();
    Thread.sleep(200);
    int stoppedAt = heard.get();
    Thread.sleep(400);
    assertThat(heard.get()).as("no heartbeat for a stopped guest").isEqualTo(stoppedAt);

    guest.destroyForcibly().waitFor();
    await().atMost(Duration.ofSeconds(5)).until(() -> !f.alive());
  }

  private void answer() {
    byte[] buf = new byte[256];
    while (!secondary.isClosed()) {
      var p = new DatagramPacket(buf, buf.length);
      try {
        secondary.receive(p);
        String text = new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII);
        if (!HeartbeatSender.valid(text, "web", "tok")) continue;
        heard.incrementAndGet();
        if (answering) secondary.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
      } catch (java.io.IOException e) {
        // closed
      }
    }
  }

  static List<String> javaCommand(String main, String... args) {
    var cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), main));
    cmd.addAll(List.of(args));
    return cmd;
  }
}
