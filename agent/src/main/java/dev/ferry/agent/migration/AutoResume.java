package dev.ferry.agent.migration;

import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.api.agent.QemuMigrationStatus;
import dev.ferry.qmp.QmpEvent;
import dev.ferry.qmp.QmpSubscription;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the guest on this host the moment its QEMU enters post-copy, and, when the request asked
 * for it ({@code resume_on_arrival}), the moment its incoming pre-copy completes. From either
 * moment the source has handed over the CPUs for good, so the guest runs here or nowhere: waiting
 * for the controller's next poll and call added 0.3–1.3 s of pause to QEMU's own downtime at the
 * switch to post-copy, and at a pre-copy completion the bench measured 68 ms on average from the
 * source's {@code completed} to the target's {@code cont}, all of it client-visible silence that
 * QEMU's downtime figure leaves out. The controller's {@code incoming/finish} stays the fallback
 * (an agent restart loses the subscription); both take the same lock and are idempotent. Without
 * {@code resume_on_arrival} a completed target stays paused until finish, for whoever wants to
 * look at it first (page compare, image compare).
 */
final class AutoResume {

  private static final Logger log = LoggerFactory.getLogger(AutoResume.class);

  private final Consumer<String> resume;
  private final Map<String, QmpSubscription> armed = new ConcurrentHashMap<>();

  /** @param resume resumes vm NAME during post-copy, or finishes its completed migration (the target's finish) */
  AutoResume(Consumer<String> resume) {
    this.resume = resume;
  }

  /**
   * Watches the target QEMU of {@code vm} for its switch to post-copy and, with
   * {@code onCompleted}, for its completion; once per migration.
   */
  void arm(String vm, QemuProcess target, boolean onCompleted) {
    armed.computeIfAbsent(vm, k -> target.qmp().subscribe("MIGRATION", e -> onMigration(vm, e, onCompleted)));
  }

  void disarm(String vm) {
    QmpSubscription s = armed.remove(vm);
    if (s != null) s.close();
  }

  private void onMigration(String vm, QmpEvent e, boolean onCompleted) {
    QemuMigrationStatus st = QemuMigrationStatus.of(e.data().path("status").asText());
    boolean now = st == QemuMigrationStatus.POSTCOPY_ACTIVE || onCompleted && st == QemuMigrationStatus.COMPLETED;
    if (!now) return;
    // the event thread delivers every event of this QEMU: the resume (QMP calls) runs beside it
    Thread.ofVirtual().name("auto-resume " + vm).start(() -> {
      try {
        resume.accept(vm);
      } catch (RuntimeException ex) {
        log.warn("vm {}: resuming at {} failed, the controller's finish will retry: {}", vm, st, ex.getMessage());
      }
    });
  }
}
