package dev.ferry.agent.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.qmp.QmpErrorException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent chose QEMU's listening ports by closing a probe socket, and any process could take
 * the port before QEMU bound it (issue 9 B9). A taken port is now chosen again, persisted first.
 */
class ListenPortsTest {

  private static final String IN_USE = "{\"error\": {\"class\": \"GenericError\","
      + " \"desc\": \"Failed to find an available port: Address already in use\"}}";
  private static final String OK = "{\"return\": {}}";

  @TempDir
  Path dir;

  private static final PortRange RANGE = new PortRange(49300, 49309);
  private final ListenPorts ports = new ListenPorts("127.0.0.1", RANGE);

  /** A firewall is planned from the agent's --migration-ports: every listener's port comes from it. */
  @Test
  void choose_portsOfTheRangeOnly_skippingTakenOnes_noneLeftIsUnavailableNamingTheRange() throws Exception {
    var held = new ArrayList<java.net.ServerSocket>();
    try {
      for (int i = 0; i < RANGE.size() - 1; i++) {
        int p = ports.choose();
        assertTrue(p >= RANGE.first() && p <= RANGE.last(), "port " + p);
        held.add(new java.net.ServerSocket(p, 1, java.net.InetAddress.getLoopbackAddress()));
      }
      int last = ports.choose();
      assertTrue(held.stream().noneMatch(s -> s.getLocalPort() == last), "a taken port chosen: " + last);
      held.add(new java.net.ServerSocket(last, 1, java.net.InetAddress.getLoopbackAddress()));

      var e = assertThrows(AgentException.class, ports::choose);
      assertEquals(Kind.UNAVAILABLE, e.kind());
      assertTrue(e.getMessage().contains("49300-49309"), e.getMessage());
    } finally {
      for (var s : held) s.close();
    }
  }

  @Test
  void portRange_parse_acceptsFirstLast_refusesTheRest() {
    assertEquals(new PortRange(49152, 49215), PortRange.parse("49152-49215"));
    assertEquals(1, PortRange.parse("50000-50000").size());
    for (String bad : List.of("49152", "49215-49152", "80-90", "a-b", "49152-70000", "")) {
      assertThrows(IllegalArgumentException.class, () -> PortRange.parse(bad), bad);
    }
  }

  @Test
  void listen_portTakenBeforeQemuBoundIt_retriesOnANewPersistedPort() throws Exception {
    List<Integer> persisted = new ArrayList<>();
    try (var qemu = new ScriptedQmp(dir, IN_USE, OK)) {
      int first = ports.choose();
      int bound = ports.listen("the nbd server of vm a", first, persisted::add,
          port -> qemu.qmp().nbdServer().startTcp("127.0.0.1", port));

      assertEquals(List.of(bound), persisted);
      assertEquals(2, qemu.received().size());
      assertEquals(String.valueOf(first), qemu.received().get(0).at("/arguments/addr/data/port").asText());
      assertEquals(String.valueOf(bound), qemu.received().get(1).at("/arguments/addr/data/port").asText());
    }
  }

  @Test
  void listen_otherRefusal_propagatesWithoutRetry() throws Exception {
    List<Integer> persisted = new ArrayList<>();
    try (var qemu = new ScriptedQmp(dir, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no such node\"}}")) {
      var e = assertThrows(QmpErrorException.class, () -> ports.listen("the nbd server of vm a", ports.choose(),
          persisted::add, port -> qemu.qmp().nbdServer().startTcp("127.0.0.1", port)));

      assertEquals("no such node", e.desc());
      assertEquals(List.of(), persisted);
    }
  }

  @Test
  void listen_everyPortTaken_unavailableAfterTheLastAttempt() throws Exception {
    String[] replies = new String[ListenPorts.ATTEMPTS];
    Arrays.fill(replies, IN_USE);
    List<Integer> persisted = new ArrayList<>();
    try (var qemu = new ScriptedQmp(dir, replies)) {
      var e = assertThrows(AgentException.class, () -> ports.listen("the post-copy recovery of vm a", ports.choose(),
          persisted::add, port -> qemu.qmp().nbdServer().startTcp("127.0.0.1", port)));

      assertEquals(Kind.UNAVAILABLE, e.kind());
      assertTrue(e.getMessage().startsWith("the post-copy recovery of vm a found no free port on 127.0.0.1 in "
          + ListenPorts.ATTEMPTS + " attempts"), e.getMessage());
      assertEquals(ListenPorts.ATTEMPTS - 1, persisted.size());
    }
  }

  @Test
  void incomingPort_afterMigrateIncomingOnPortZero_isThePortQemuBound() throws Exception {
    try (var qemu = new ScriptedQmp(dir, "{\"return\": {\"status\": \"setup\", \"socket-address\": [{\"port\": \"40117\","
        + " \"ipv6\": false, \"host\": \"127.0.0.1\", \"type\": \"inet\"}]}}", "{\"return\": {}}")) {
      assertEquals(OptionalInt.of(40117), qemu.qmp().migration().incomingPort());
      assertEquals(OptionalInt.empty(), qemu.qmp().migration().incomingPort());
    }
  }
}
