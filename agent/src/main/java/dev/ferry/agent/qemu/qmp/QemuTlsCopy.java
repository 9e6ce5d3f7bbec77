package dev.ferry.agent.qemu.qmp;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.qemu.QemuUser;
import dev.ferry.api.tls.TlsDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The TLS directory QEMU's {@code tls-creds-x509} objects load. QEMU runs as its own user
 * ({@link QemuUser}) and cannot read the agent's directory, which stays private to the agent;
 * so each agent start copies the five files into {@code DATA/qemu-tls}, owned by that user and
 * 0600 (a renewed certificate reaches QEMU with the next agent start).
 */
public final class QemuTlsCopy {

  static final String DIR = "qemu-tls";

  private QemuTlsCopy() {}

  /** The directory QEMU is to read: the agent's own when QEMU runs as the agent, else a fresh copy. */
  public static TlsDir of(TlsDir agents, Path dataDir, QemuUser user) {
    if (agents == null) return null;
    if (!user.drop()) return agents;
    Path copy = dataDir.resolve(DIR);
    try {
      Files.createDirectories(copy);
      for (String name : List.of(TlsDir.CA_CERT, TlsDir.SERVER_CERT, TlsDir.SERVER_KEY, TlsDir.CLIENT_CERT,
          TlsDir.CLIENT_KEY)) {
        Path from = agents.dir().resolve(name);
        if (Files.exists(from)) Files.copy(from, copy.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot copy the TLS files for QEMU user " + user.name() + " into " + copy
          + ": " + e.getMessage(), e);
    }
    user.handOverDir(copy);
    return new TlsDir(copy);
  }
}
