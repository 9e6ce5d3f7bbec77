package dev.ferry.app.bench;

import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.controller.migration.LivePolicy;
import java.time.Instant;
import java.util.Map;

/** The controller's own live-migration policy for default flags, as the benchmark applies it. */
final class FerryPolicy {

  private final LivePolicy policy;

  private FerryPolicy(LivePolicy policy) {
    this.policy = policy;
  }

  /** The policy for {@code ferry migrate live} with every flag left at its default. */
  static FerryPolicy defaults(String vm, String to) {
    return new FerryPolicy(LivePolicy.of(new LiveMigrationRequest(vm, to, null, null, null, null, null, null, null, null, null)));
  }

  Map<String, Boolean> sourceCapabilities() {
    return policy.sourceCapabilities();
  }

  Map<String, Boolean> targetCapabilities() {
    return policy.targetCapabilities();
  }

  Map<String, Object> targetParameters() {
    return policy.targetParameters();
  }

  Map<String, Object> sourceParameters(long guestBytes) {
    return policy.sourceParameters(guestBytes);
  }

  /** As the controller does it: remaining = RAM still to send (no copied disks here). */
  void observe(MigrationStats s, Instant now) {
    policy.observe(s, s.ramRemainingBytes(), now);
  }

  Map<String, Object> nextThrottle(Instant now) {
    return policy.nextThrottle(now);
  }

  boolean shouldSwitchToPostcopy(Instant now) {
    return policy.shouldSwitchToPostcopy(now);
  }

  boolean shouldGiveUp(Instant now) {
    return policy.shouldGiveUp(now);
  }

  String stuckReason() {
    return policy.stuckReason();
  }
}
