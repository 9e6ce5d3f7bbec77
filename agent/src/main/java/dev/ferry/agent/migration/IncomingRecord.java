package dev.ferry.agent.migration;

import dev.ferry.api.agent.IncomingPhase;
import java.util.List;
import java.util.Map;

/**
 * What the target persists of a live migration ({@code DIR/vms/NAME/migration.json}, role
 * {@code target}): the ports chosen, the exports and the images it created, all written before
 * they exist, so a retry finds them and a rollback deletes exactly what this migration made.
 *
 * @param migrationPort where QEMU listens for the migration stream; 0 until one was chosen
 * @param exports       disk id → NBD export name (also the export's id)
 * @param createdImages absolute paths of the images created for copied disks
 * @param recoveryPort  where {@code migrate-recover} last listened for a paused post-copy; null before any
 */
record IncomingRecord(
    String role,
    String migrationId,
    IncomingPhase phase,
    String host,
    int migrationPort,
    Integer nbdPort,
    Map<String, String> exports,
    List<String> createdImages,
    Map<String, Boolean> capabilities,
    Map<String, Object> parameters,
    long memoryGivenBytes,
    String error,
    Integer recoveryPort) {

  static final String ROLE = "target";

  IncomingRecord {
    exports = exports == null ? Map.of() : Map.copyOf(exports);
    createdImages = createdImages == null ? List.of() : List.copyOf(createdImages);
    capabilities = capabilities == null ? Map.of() : Map.copyOf(capabilities);
    parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
  }

  String migrationUri() {
    return tcp(migrationPort);
  }

  IncomingRecord withPhase(IncomingPhase next) {
    return new IncomingRecord(role, migrationId, next, host, migrationPort, nbdPort, exports, createdImages, capabilities,
        parameters, memoryGivenBytes, error, recoveryPort);
  }

  IncomingRecord withMigrationPort(int port) {
    return new IncomingRecord(role, migrationId, phase, host, port, nbdPort, exports, createdImages, capabilities,
        parameters, memoryGivenBytes, error, recoveryPort);
  }

  IncomingRecord withNbdPort(int port) {
    return new IncomingRecord(role, migrationId, phase, host, migrationPort, port, exports, createdImages, capabilities,
        parameters, memoryGivenBytes, error, recoveryPort);
  }

  IncomingRecord withRecoveryPort(int port) {
    return new IncomingRecord(role, migrationId, phase, host, migrationPort, nbdPort, exports, createdImages, capabilities,
        parameters, memoryGivenBytes, error, port);
  }

  String recoveryUri() {
    return recoveryPort == null ? null : tcp(recoveryPort);
  }

  /** An IPv6 literal in brackets: QEMU reads the host of {@code tcp:HOST:PORT} up to the first colon otherwise. */
  private String tcp(int port) {
    boolean ipv6 = host.contains(":") && !host.startsWith("[");
    return "tcp:" + (ipv6 ? "[" + host + "]" : host) + ":" + port;
  }
}
