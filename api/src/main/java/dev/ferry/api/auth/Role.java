package dev.ferry.api.auth;

/**
 * What a user token may do, each role including the ones before it. The controller's route table
 * ({@code controller/rest/Access}) names the least role of every route.
 */
public enum Role {
  /** reads everything, changes nothing */
  VIEWER,
  /** VM lifecycle (create, start, stop, kill, delete, unlock) and migrations */
  OPERATOR,
  /** everything, including hosts, pools, tokens and the audit log */
  ADMIN;

  /** True when a token of this role may call a route that needs {@code needed}. */
  public boolean allows(Role needed) {
    return ordinal() >= needed.ordinal();
  }

  public String text() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
