package dev.ferry.controller.migration;

import dev.ferry.api.LiveMigrationRequest;
import java.util.Map;

/**
 * The QEMU capabilities and parameters the controller starts a live migration with, for a
 * request, exactly as its runner sets them. Public for the live benchmark's {@code ferry-params}
 * run, which gives QEMU these settings without the controller's orchestration; the {@code ferry}
 * run goes through the controller itself. The convergence watch stays package-private: nothing
 * outside the runner may drive a migration by it.
 */
public final class LivePolicy {

  private final LiveOptions options;

  private LivePolicy(LiveOptions options) {
    this.options = options;
  }

  /**
   * The settings for a request whose guest no measurement says would stall (so unasked post-copy
   * stays off); bad values fail as they would on the API (ControllerException).
   */
  public static LivePolicy of(LiveMigrationRequest request) {
    return new LivePolicy(LiveOptions.validate(request, false));
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
}
