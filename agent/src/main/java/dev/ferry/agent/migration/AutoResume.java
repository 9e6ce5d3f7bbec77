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
 * Runs the guest on this host the moment its QEMU enters post-copy. From that moment the source
 * has handed over the CPUs for good, so the guest runs here or nowhere: waiting for the
 * controller's next poll and call added 0.3–1.3 s of pause to QEMU's own downtime in our runs.
 * The controller's {@code incoming/finish} during post-copy stays the fallback (an agent
 * restart loses the subscription); both take the same lock and are idempotent.
 */
final class PostcopyAutoResume {

  private static final Logger log = LoggerFactory.getLogger(PostcopyAutoResume.class);

  private final Consumer<String> resume;
  private final Map<String, QmpSubscription> armed = new ConcurrentHashMap<>();

  /** @param resume resumes vm NAME during post-copy (the target's finish) */
  PostcopyAutoResume(Consumer<String> resume) {
    this.resume = resume;
  }

  /** Watches the target QEMU of {@code vm} for its switch to post-copy; once per migration. */
  void arm(String vm, QemuProcess target) {
    armed.computeIfAbsent(vm, k -> target.qmp().subscribe("MIGRATION", e -> onMigration(vm, e)));
  }

  void disarm(String vm) {
    QmpSubscription s = armed.remove(vm);
    if (s != null) s.close();
  }

  private void onMigration(String vm, QmpEvent e) {
    if (QemuMigrationStatus.of(e.data().path("status").asText()) != QemuMigrationStatus.POSTCOPY_ACTIVE) return;
    // the event thread delivers every event of this QEMU: the resume (QMP calls) runs beside it
    Thread.ofVirtual().name("postcopy-resume " + vm).start(() -> {
      try {
        resume.accept(vm);
      } catch (RuntimeException ex) {
        log.warn("vm {}: resuming at the switch to post-copy failed, the controller's finish will retry: {}", vm,
            ex.getMessage());
      }
    });
  }
}
