package dev.ferry.testsupport;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Every process a test starts is registered here by pid and killed by pid after the test, so a
 * failing test never leaves a QEMU behind and never touches anyone else's. Never by name.
 *
 * <p>Use as {@code @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perTest();}
 * (killed after each test) or {@code perClass()} (after the last test of the class).
 */
public final class OwnedProcesses implements AfterEachCallback, AfterAllCallback {

  private final Set<Long> pids = ConcurrentHashMap.newKeySet();
  private final boolean perTest;

  private OwnedProcesses(boolean perTest) {
    this.perTest = perTest;
  }

  public static OwnedProcesses perTest() {
    return new OwnedProcesses(true);
  }

  public static OwnedProcesses perClass() {
    return new OwnedProcesses(false);
  }

  public long own(long pid) {
    pids.add(pid);
    return pid;
  }

  public void release(long pid) {
    pids.remove(pid);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (perTest) killAll();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    killAll();
  }

  public void killAll() {
    for (Long pid : Set.copyOf(pids)) {
      ProcessHandle.of(pid).ifPresent(p -> {
        p.destroyForcibly();
        try {
          p.onExit().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
          System.err.println("process " + pid + " did not exit after SIGKILL: " + e);
        }
      });
      pids.remove(pid);
    }
  }
}
