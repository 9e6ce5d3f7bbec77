package dev.ferry.controller.migration;

import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.agent.MigrationStats;
import java.time.Instant;
import java.util.Map;

/**
 * The live-migration policy exactly as the controller applies it: flags to QEMU capabilities and
 * parameters, and the convergence watch that decides on post-copy or giving up. Public for the
 * tools that must run the very same policy outside a migration (the live benchmark), so that a
 * policy change shows up there without a copy to keep in step.
 */
public final class LivePolicy {

  private final LiveOptions options;
  private final Convergence convergence;

  private LivePolicy(LiveOptions options) {
    this.options = options;
    this.convergence = new Convergence(options);
  }

  /** The policy for a request; bad values fail as they would on the API (ControllerException). */
  public static LivePolicy of(LiveMigrationRequest request) {
    return new LivePolicy(LiveOptions.validate(request));
  }

  public Map<String, Boolean> sourceCapabilities() {
    return options.sourceCapabilities();
  }

  public Map<String, Boolean> targetCapabilities() {
    return options.targetCapabilities();
  }

  public Map<String, Object> sourceParameters(long guestBytes) {
    return options.sourceParameters(guestBytes);
  }

  public Map<String, Object> targetParameters() {
    return options.targetParameters();
  }

  public void observe(MigrationStats stats, long remainingBytes, Instant now) {
    convergence.observe(stats, remainingBytes, now);
  }

  /** The next auto-converge rung (parameters for the source's {@code outgoing/parameters}), or null. */
  public Map<String, Object> nextThrottle(Instant now) {
    return convergence.nextThrottle(now);
  }

  public boolean shouldSwitchToPostcopy(Instant now) {
    return convergence.shouldSwitchToPostcopy(now);
  }

  public boolean shouldGiveUp(Instant now) {
    return convergence.shouldGiveUp(now);
  }

  public String stuckReason() {
    return convergence.stuckReason();
  }
}
