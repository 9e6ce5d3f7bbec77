package dev.ferry.app;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Predicate;

/**
 * What the migration tests do and check on a cluster the way a user would: create a VM from the
 * test guest, wait for a migration through {@code ferry migration show}, make sure no QEMU is
 * left for a VM on a host. Every QEMU seen is owned, so a failing test still kills it by pid.
 *
 * @param dir the cluster directory: hosts' data under {@code hosts/NAME}, logs under {@code logs}
 */
record ClusterChecks(FerryProcess ferry, Path dir, OwnedProcesses owned) {

  /** A VM from the test guest on host1 with a 32 MiB disk on {@code pool}; returns its console. */
  GuestConsole create(String name, String workloads, String pool, Path kernel, Path initrd) {
    JsonNode vm = ferry.ok("vm", "create", name, "--host", "host1", "--memory", "256M", "--kernel", kernel.toString(),
        "--initrd", initrd.toString(), "--append", TestGuest.append(workloads), "--disk", "32M@" + pool, "--json").json();
    owned.own(vm.get("pid").asLong());
    return ferry.console("host1", name);
  }

  JsonNode show(String vm) {
    return ferry.ok("vm", "show", vm, "--json").json();
  }

  /** Polls {@code migration show} until {@code done}; the failure carries the last record and the controller's log lines. */
  JsonNode awaitMigration(String id, Predicate<JsonNode> done, Duration timeout) throws InterruptedException {
    long until = System.nanoTime() + timeout.toNanos();
    JsonNode m = null;
    while (true) {
      var r = ferry.run("migration", "show", id, "--json");
      if (r.exit() == 0) {
        m = r.json();
        if (done.test(m)) return m;
      }
      if (System.nanoTime() > until) {
        throw new AssertionError("migration " + id + " not as awaited within " + timeout + "; last: " + (m == null ? r : m)
            + "\ncontroller log:\n" + controllerLogAbout(id));
      }
      Thread.sleep(500);
    }
  }

  /** No QEMU for the VM on that host: its pid file is gone or names a dead process (a rollback may trail by a moment). */
  void awaitNoQemu(String host, String vm, Duration timeout) throws InterruptedException {
    Path pidFile = dir.resolve("hosts").resolve(host).resolve("vms").resolve(vm).resolve("run/qemu.pid");
    long until = System.nanoTime() + timeout.toNanos();
    while (true) {
      Long live = livePid(pidFile);
      if (live == null) return;
      owned.own(live); // whatever happens, the test run does not leave it behind
      if (System.nanoTime() > until) {
        throw new AssertionError("a qemu (pid " + live + ") still runs vm '" + vm + "' on " + host + " (" + pidFile + ")");
      }
      Thread.sleep(500);
    }
  }

  /** The pid of the live QEMU that runs (or receives) {@code vm} on {@code host}, from its pid file. */
  long qemuPid(String host, String vm) {
    Long pid = livePid(dir.resolve("hosts").resolve(host).resolve("vms").resolve(vm).resolve("run/qemu.pid"));
    if (pid == null) throw new AssertionError("no live qemu for vm '" + vm + "' on " + host);
    owned.own(pid);
    return pid;
  }

  /** The controller's log lines that mention {@code id}, for a failure message. */
  String controllerLogAbout(String id) {
    try {
      return String.join("\n", Files.readAllLines(dir.resolve("logs/controller.log")).stream()
          .filter(l -> l.contains(id)).toList());
    } catch (IOException e) {
      return "(no controller log: " + e.getMessage() + ")";
    }
  }

  private static Long livePid(Path pidFile) {
    try {
      if (!Files.exists(pidFile)) return null;
      String text = Files.readString(pidFile).strip();
      if (text.isEmpty()) return null;
      long pid = Long.parseLong(text);
      return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).isPresent() ? pid : null;
    } catch (IOException | NumberFormatException e) {
      return null; // removed or rewritten while reading: look again
    }
  }
}
