package dev.ferry.api;

/**
 * A VM's fault tolerance as {@code ferry vm show} prints it; {@code ferry ft status} has the rest.
 *
 * @param state     as {@link FtStatusView#state()}: syncing, protected, failing_over, unprotected, disabling
 * @param secondary the host of its secondary; null while unprotected
 */
public record VmFtView(String state, String secondary) {}
