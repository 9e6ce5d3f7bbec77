package dev.ferry.api.auth;

import java.time.Instant;

/**
 * One mutating call to the controller, as {@code GET /api/audit} lists it (newest first).
 *
 * @param actor the token's name, {@code host:NAME} for an agent, or {@code -} when no known
 *     credential was shown
 * @param action what was asked, e.g. {@code vm.create}, {@code migration.live}, {@code token.revoke}
 * @param target the object it was asked of (a VM, host, pool, token or migration id), or null
 * @param outcome {@code ok}, {@code refused} (401/403) or {@code failed} (any other error)
 * @param status the HTTP status answered
 * @param detail the refusal's or failure's reason, null when it went through
 */
public record AuditEntry(long id, Instant at, String actor, String action, String target, String outcome, int status,
    String detail) {}
