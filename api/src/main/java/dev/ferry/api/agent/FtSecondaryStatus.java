package dev.ferry.api.agent;

/**
 * A COLO secondary on its host: where the primary's disk sync, replication and COLO stream go,
 * and what its QEMU says.
 *
 * @param host          the address its NBD server and migration listener bind
 * @param nbdPort       the NBD server exporting each replica (disk id = export name)
 * @param migrationPort where the primary's COLO migration connects
 * @param pid           the secondary QEMU; null when none runs
 * @param coloMode      {@code query-colo-status}'s mode: {@code none} until the first checkpoint
 *                      loaded, then {@code secondary}; null when no QEMU answers
 * @param heartbeatPort the UDP port the secondary's agent hears the primary's heartbeats on
 *                      (same address); null from an agent without peer heartbeats
 * @param heartbeatToken what each heartbeat datagram must carry, so a stray sender cannot keep
 *                      a dead primary alive
 * @param replicas      disk id → the replica image, the VM's disk on this host after a takeover
 * @param nicPorts      per NIC of the VM, in order, where the primary's network proxy connects
 *                      (empty without NICs)
 */
public record FtSecondaryStatus(String vm, String host, int nbdPort, int migrationPort, Long pid, String coloMode,
    Integer heartbeatPort, String heartbeatToken, java.util.Map<String, String> replicas,
    java.util.List<FtNicPorts> nicPorts) {}
