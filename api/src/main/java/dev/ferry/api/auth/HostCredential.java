package dev.ferry.api.auth;

/**
 * A host's enrolment, answered once by {@code POST /api/hosts/{name}/credential} and kept by the
 * agent in a 0600 file ({@code --credential-file}): {@code credential} is the secret the agent
 * shows the controller (a heartbeat for this host only); {@code controllerCredentialSha256} is the
 * hash of the controller's own credential, which the agent accepts on its API and nothing else
 * (no user token). The agent never holds the controller's secret itself.
 */
public record HostCredential(String host, String credential, String controllerCredentialSha256) {}
