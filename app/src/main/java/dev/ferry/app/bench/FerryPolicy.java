package dev.ferry.app.bench;

import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.MigrationStats;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.time.Instant;
import java.util.Map;

/**
 * The controller's own live-migration policy, called as is: {@code LiveOptions} (flags → QEMU
 * capabilities and parameters) and {@code Convergence} (when pre-copy is stuck: switch to
 * post-copy or give up). Both are package-private in {@code dev.ferry.controller.migration}, so
 * the benchmark reaches them by reflection rather than copying the mapping: a change of policy
 * shows up in the next benchmark run without touching this file.
 */
final class FerryPolicy {

  private static final String PKG = "dev.ferry.controller.migration.";

  private final Object options;
  private final Object convergence;
  private final Method observe;
  private final Method switchToPostcopy;
  private final Method giveUp;
  private final Method stuckReason;

  private FerryPolicy(Object options, Object convergence, Class<?> conv) throws ReflectiveOperationException {
    this.options = options;
    this.convergence = convergence;
    this.observe = open(conv.getDeclaredMethod("observe", MigrationStats.class, long.class, Instant.class));
    this.switchToPostcopy = open(conv.getDeclaredMethod("shouldSwitchToPostcopy", Instant.class));
    this.giveUp = open(conv.getDeclaredMethod("shouldGiveUp", Instant.class));
    this.stuckReason = open(conv.getDeclaredMethod("stuckReason"));
  }

  /** The policy for {@code ferry migrate --live} with every flag left at its default. */
  static FerryPolicy defaults(String vm, String to) {
    try {
      Class<?> lo = Class.forName(PKG + "LiveOptions");
      Object options = open(lo.getDeclaredMethod("validate", LiveMigrationRequest.class)).invoke(null,
          new LiveMigrationRequest(vm, to, null, null, null, null, null, null, null, null, null));
      Class<?> conv = Class.forName(PKG + "Convergence");
      Constructor<?> c = conv.getDeclaredConstructor(lo);
      c.setAccessible(true);
      return new FerryPolicy(options, c.newInstance(options), conv);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot reach the controller's live-migration policy: " + e, e);
    }
  }

  @SuppressWarnings("unchecked")
  Map<String, Boolean> sourceCapabilities() {
    return (Map<String, Boolean>) call(options, "sourceCapabilities");
  }

  @SuppressWarnings("unchecked")
  Map<String, Boolean> targetCapabilities() {
    return (Map<String, Boolean>) call(options, "targetCapabilities");
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> targetParameters() {
    return (Map<String, Object>) call(options, "targetParameters");
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> sourceParameters(long guestBytes) {
    try {
      return (Map<String, Object>) open(options.getClass().getDeclaredMethod("sourceParameters", long.class))
          .invoke(options, guestBytes);
    } catch (ReflectiveOperationException e) {
      throw unwrap(e);
    }
  }

  /** As the controller does it: remaining = RAM still to send (no copied disks here). */
  void observe(MigrationStats s, Instant now) {
    invoke(observe, s, s.ramRemainingBytes(), now);
  }

  boolean shouldSwitchToPostcopy(Instant now) {
    return (Boolean) invoke(switchToPostcopy, now);
  }

  boolean shouldGiveUp(Instant now) {
    return (Boolean) invoke(giveUp, now);
  }

  String stuckReason() {
    return (String) invoke(stuckReason);
  }

  private Object invoke(Method m, Object... args) {
    try {
      return m.invoke(convergence, args);
    } catch (ReflectiveOperationException e) {
      throw unwrap(e);
    }
  }

  private static Object call(Object target, String name) {
    try {
      return open(target.getClass().getDeclaredMethod(name)).invoke(target);
    } catch (ReflectiveOperationException e) {
      throw unwrap(e);
    }
  }

  private static Method open(Method m) {
    m.setAccessible(true);
    return m;
  }

  private static RuntimeException unwrap(ReflectiveOperationException e) {
    if (e instanceof InvocationTargetException ite && ite.getCause() instanceof RuntimeException r) return r;
    return new IllegalStateException("controller policy call failed: " + e, e);
  }
}
