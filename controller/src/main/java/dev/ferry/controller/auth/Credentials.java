package dev.ferry.controller.auth;

import dev.ferry.api.Names;
import dev.ferry.api.auth.HostCredential;
import dev.ferry.api.auth.Role;
import dev.ferry.api.auth.SecretFile;
import dev.ferry.api.auth.TokenCreateRequest;
import dev.ferry.api.auth.TokenCreated;
import dev.ferry.api.auth.TokenView;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.store.CredentialStore;
import dev.ferry.controller.store.CredentialStore.TokenRow;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * User tokens, host credentials and the controller's own credential. The store keeps only SHA-256
 * hashes; a request's secret is hashed and looked up in a snapshot of every hash, rebuilt after
 * each change, so a revoked token is refused from the next request on without a query per call.
 *
 * <p>Files in the data directory, both 0600: {@code token} is the first admin token (created
 * with the store's first token, so a fresh cluster has exactly one way in), and
 * {@code controller-credential} is what the controller shows agents, which keep only its hash.
 */
public final class Credentials {

  /** The first token's name; {@code ferry token list} shows it like any other. */
  public static final String FIRST_TOKEN = "admin";

  private final CredentialStore store;
  private final InstantSource clock;
  private final String controllerCredential;
  private final String firstToken;
  private volatile Map<String, Principal> byHash = Map.of();

  private Credentials(CredentialStore store, InstantSource clock, String controllerCredential, String firstToken) {
    this.store = store;
    this.clock = clock;
    this.controllerCredential = controllerCredential;
    this.firstToken = firstToken;
    reload();
  }

  /**
   * Loads (or, on the first start, creates) the controller credential and the first admin token.
   * A data directory from before tokens existed keeps its token file: its token becomes the admin's.
   */
  public static Credentials open(CredentialStore store, Path dataDir, InstantSource clock) {
    Path controllerFile = dataDir.resolve("controller-credential");
    SecretFile.createIfAbsent(controllerFile, SecretFile.newSecret());
    String controller = SecretFile.read(controllerFile);
    Path tokenFile = dataDir.resolve("token");
    if (store.tokenCount() == 0) {
      SecretFile.createIfAbsent(tokenFile, SecretFile.newSecret());
      String first = SecretFile.read(tokenFile);
      store.addToken(new TokenRow(FIRST_TOKEN, Role.ADMIN, SecretFile.sha256(first), clock.instant()));
    }
    String first = java.nio.file.Files.exists(tokenFile) ? SecretFile.read(tokenFile) : null;
    return new Credentials(store, clock, controller, first);
  }

  /** Who holds {@code secret}, if anyone. */
  public Optional<Principal> resolve(String secret) {
    if (secret == null || secret.isBlank()) return Optional.empty();
    return Optional.ofNullable(byHash.get(SecretFile.sha256(secret.strip())));
  }

  /** The secret the controller shows agents on every call. */
  public String controllerCredential() {
    return controllerCredential;
  }

  /** The first admin token as its file holds it (tests and the local cluster use it); null when the file is gone. */
  public String firstToken() {
    return firstToken;
  }

  public synchronized TokenCreated create(TokenCreateRequest req) {
    if (req == null) throw ControllerException.invalid("body", "", "a JSON object with name and role");
    if (!Names.valid(req.name())) throw ControllerException.invalid("name", req.name(), Names.RULE);
    if (req.role() == null) throw ControllerException.invalid("role", null, "viewer, operator or admin");
    String secret = SecretFile.newSecret();
    Instant now = clock.instant();
    if (!store.addToken(new TokenRow(req.name(), req.role(), SecretFile.sha256(secret), now))) {
      throw ControllerException.conflict("name", req.name(), "a token named '" + req.name()
          + "' exists; revoke it first or choose another name");
    }
    reload();
    return new TokenCreated(req.name(), req.role(), now, secret);
  }

  public List<TokenView> list() {
    return store.tokens().stream().map(t -> new TokenView(t.name(), t.role(), t.created())).toList();
  }

  /** Revokes the token; the last admin token stays, or nobody could manage tokens again. */
  public synchronized void revoke(String name) {
    List<TokenRow> all = store.tokens();
    TokenRow t = all.stream().filter(r -> r.name().equals(name)).findFirst()
        .orElseThrow(() -> ControllerException.notFound("name", name, "no token named '" + name + "'",
            String.join(", ", all.stream().map(TokenRow::name).toList())));
    if (t.role() == Role.ADMIN && all.stream().filter(r -> r.role() == Role.ADMIN).count() == 1) {
      throw ControllerException.conflict("name", name, "token '" + name
          + "' is the last admin token; create another admin token before revoking it");
    }
    store.removeToken(name);
    reload();
  }

  /** A new credential for {@code host}, replacing any earlier one (whose agent is refused from now on). */
  public synchronized HostCredential enroll(String host) {
    if (!Names.valid(host)) throw ControllerException.invalid("name", host, Names.RULE);
    String secret = SecretFile.newSecret();
    store.setHostCredential(host, SecretFile.sha256(secret), clock.instant());
    reload();
    return new HostCredential(host, secret, SecretFile.sha256(controllerCredential));
  }

  private void reload() {
    Map<String, Principal> m = new HashMap<>();
    store.hostCredentials().forEach((host, sha) -> m.put(sha, new Principal.Host(host)));
    for (TokenRow t : store.tokens()) m.put(t.sha256(), new Principal.User(t.name(), t.role()));
    byHash = Map.copyOf(m);
  }
}
