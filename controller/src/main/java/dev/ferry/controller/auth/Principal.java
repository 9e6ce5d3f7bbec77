package dev.ferry.controller.auth;

import dev.ferry.api.auth.Role;

/** Who a request comes from, by the secret it showed. */
public sealed interface Principal {

  /** How the audit log names it. */
  String actor();

  /** A user token, with its role. */
  record User(String name, Role role) implements Principal {
    @Override
    public String actor() {
      return name;
    }
  }

  /** A host's agent, by its own credential: it may speak for this host only. */
  record Host(String name) implements Principal {
    @Override
    public String actor() {
      return "host:" + name;
    }
  }
}
