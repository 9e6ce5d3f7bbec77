package dev.ferry.agent.http;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Checks {@code Authorization: Bearer <cluster token>}. Both sides are hashed before the
 * constant-time compare, so neither the content nor the length of the token leaks through timing.
 */
final class TokenAuth {

  private static final String PREFIX = "Bearer ";
  private final byte[] expected;

  TokenAuth(String token) {
    if (token == null || token.isBlank()) throw new IllegalArgumentException("the cluster token must not be empty");
    this.expected = sha256(token.strip());
  }

  void check(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
      throw new AgentException(Kind.UNAUTHORIZED, "missing bearer token: send 'Authorization: Bearer <cluster token>'");
    }
    byte[] given = sha256(authorization.substring(PREFIX.length()).strip());
    if (!MessageDigest.isEqual(expected, given)) {
      throw new AgentException(Kind.UNAUTHORIZED, "wrong bearer token");
    }
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
