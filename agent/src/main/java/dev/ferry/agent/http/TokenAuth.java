package dev.ferry.agent.http;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.api.auth.SecretFile;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Checks {@code Authorization: Bearer <controller credential>}. The agent holds only the
 * credential's SHA-256 (from its enrolment), so a stolen agent data directory does not let anyone
 * call other agents; the hashes are compared in constant time. A user token is refused like any
 * other secret: only the controller speaks to agents.
 */
final class TokenAuth {

  private static final String PREFIX = "Bearer ";
  private final byte[] expected;

  /** {@code sha256}: the controller credential's hash, 64 hex digits. */
  TokenAuth(String sha256) {
    if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException("the controller credential hash must be 64 hex digits");
    }
    this.expected = sha256.getBytes(StandardCharsets.US_ASCII);
  }

  void check(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
      throw new AgentException(Kind.UNAUTHORIZED,
          "missing bearer token: only the controller may call this agent, with its controller credential");
    }
    byte[] given = SecretFile.sha256(authorization.substring(PREFIX.length()).strip()).getBytes(StandardCharsets.US_ASCII);
    if (!MessageDigest.isEqual(expected, given)) {
      throw new AgentException(Kind.UNAUTHORIZED,
          "wrong bearer token: only the controller's credential is accepted here (not a user token)");
    }
  }
}
