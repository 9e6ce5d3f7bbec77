package dev.ferry.api.agent;

/**
 * {@code POST /agent/vms/NAME/ft/protect}: on the primary, sync each disk to the secondary's
 * replicas, then start COLO with checkpoints every {@code checkpointIntervalMs}. Answers at once;
 * {@code GET /agent/vms/NAME/ft} follows it. A repeat while it runs or after it succeeded changes
 * nothing. With {@code heartbeatPort} the primary's agent heartbeats the secondary's agent there
 * (UDP, every 100 ms, answered) and fences its guest when it hears neither the secondary nor the
 * controller (docs/ft.md, failure detection). {@code nicPorts} (one per NIC of the VM, in order;
 * null or empty for a VM without NICs) are the secondary's ends of the COLO network proxy.
 */
public record FtProtectRequest(String secondaryHost, String secondaryAddress, int nbdPort, int migrationPort,
    int checkpointIntervalMs, Integer heartbeatPort, String heartbeatToken, java.util.List<FtNicPorts> nicPorts) {

  /** A VM without NICs. */
  public FtProtectRequest(String secondaryHost, String secondaryAddress, int nbdPort, int migrationPort,
      int checkpointIntervalMs, Integer heartbeatPort, String heartbeatToken) {
    this(secondaryHost, secondaryAddress, nbdPort, migrationPort, checkpointIntervalMs, heartbeatPort, heartbeatToken, null);
  }

  /** Without peer heartbeats (and so without self-fencing). */
  public FtProtectRequest(String secondaryHost, String secondaryAddress, int nbdPort, int migrationPort,
      int checkpointIntervalMs) {
    this(secondaryHost, secondaryAddress, nbdPort, migrationPort, checkpointIntervalMs, null, null);
  }
}
