package dev.ferry.agent.ftpair;

import dev.ferry.api.agent.FtSecondaryRequest;
import dev.ferry.api.agent.FtNicPorts;
import java.util.List;
import java.util.Map;

/**
 * What {@code DIR/ft/NAME/secondary.json} holds: the request the secondary was built from, the
 * ports its QEMU listens on (persisted before QEMU binds them) and the files it made, so a
 * restarted agent re-adopts the secondary QEMU or removes every file of it.
 *
 * @param replicas disk id → the replica image (in a pool)
 * @param hidden   disk id → the hidden overlay (in the secondary's directory)
 * @param active   disk id → the active overlay
 * @param heartbeatPort  the UDP port the primary's heartbeats come to (null in a record of an older agent)
 * @param heartbeatToken what they must carry
 * @param nicPorts       per NIC, where the primary's network proxy connects (null in a record of an older agent)
 */
record SecondaryRecord(String vm, FtSecondaryRequest request, String address, int nbdPort, int migrationPort,
    Map<String, String> replicas, Map<String, String> hidden, Map<String, String> active, Integer heartbeatPort,
    String heartbeatToken, List<FtNicPorts> nicPorts) {

  List<FtNicPorts> nics() {
    return nicPorts == null ? List.of() : nicPorts;
  }
}
