package dev.ferry.app;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code ferry demo warm}: a warm migration end to end on a local cluster, with the commands a
 * user types: a VM whose guest keeps writing its disk is copied to host2 in passes while it runs,
 * cut over by hand, and moved back with an automatic cutover; each record shows the passes and
 * the predicted next to the actual downtime.
 */
@Command(name = "warm", description = "Start a 2-host local cluster, boot a VM that writes its disk, warm-migrate it to host2"
    + " in passes with a manual cutover, then back with an automatic one; shows predicted vs actual downtime.")
final class DemoWarm implements Callable<Integer> {

  static final String VM = "demo-warm";

  @Override
  public Integer call() throws Exception {
    Path guest = DemoCommand.guestDir();
    Path cluster = dev.ferry.cli.Cli.defaultClusterDir();

    DemoCommand.step("bring up a local cluster of 2 hosts");
    DemoCommand.run(DemoCommand.concat(List.of("cluster", "up", "--hosts", "2"), List.of("--dir", cluster.toString())));
    Path pool = cluster.resolve("pools/shared/guest");
    java.nio.file.Files.createDirectories(pool);
    Path kernel = DemoCommand.copy(guest.resolve("vmlinuz"), pool);
    Path initrd = DemoCommand.copy(guest.resolve("initrd.img"), pool);
    if (DemoCommand.runQuiet(List.of("vm", "show", VM)) == 0) {
      DemoCommand.step("remove the VM of an earlier demo");
      DemoCommand.runQuiet(List.of("vm", "kill", VM));
      DemoCommand.run(List.of("vm", "delete", VM));
    }

    DemoCommand.step("create and boot VM '" + VM + "' on host1: its guest rewrites 32 MiB of its disk at 4 MiB/s,"
        + " checking every record before it overwrites it");
    DemoCommand.run(List.of("vm", "create", VM, "--host", "host1", "--memory", "256M", "--cpus", "1", "--kernel",
        kernel.toString(), "--initrd", initrd.toString(), "--append", "ferry.disk=4:32", "--disk",
        "128M@local"));
    Thread.sleep(15_000);

    DemoCommand.step("warm-migrate it to host2: pass 0 copies the disk's data, every later pass what the guest wrote"
        + " since the pass before (a dirty bitmap), while it runs; the cutover waits for the command");
    DemoCommand.run(List.of("migrate", "warm", VM, "--to", "host2", "--sync-interval", "2s", "--detach"));
    String id = DemoCommand.lastMigration();
    for (int i = 0; i < 3; i++) {
      Thread.sleep(4000);
      DemoCommand.run(List.of("migration", "show", id));
    }

    DemoCommand.step("cut over now: the guest powers off, the final pass copies its last writes, both hosts hash their"
        + " copies, the VM starts on host2");
    DemoCommand.run(List.of("migration", "cutover", id));
    awaitEnd(id);
    DemoCommand.run(List.of("migration", "show", id));

    Thread.sleep(15_000);
    DemoCommand.step("the guest on host2 resumed its writes where the disk said (errors=0)");
    DemoCommand.run(List.of("vm", "console", VM, "--tail", "6"));

    DemoCommand.step("and back to host1 with --cutover auto: it cuts over as soon as the predicted downtime is within"
        + " --max-downtime");
    DemoCommand.run(List.of("migrate", "warm", VM, "--to", "host1", "--sync-interval", "2s", "--cutover", "auto",
        "--max-downtime", "20000"));
    DemoCommand.run(List.of("migration", "show", DemoCommand.lastMigration()));

    DemoCommand.step("done: the cluster keeps running");
    System.out.println("  ./ferry vm console " + VM + " --follow   # watch the guest");
    System.out.println("  ./ferry cluster down                     # stop the VMs and the cluster in " + cluster);
    return 0;
  }

  private static void awaitEnd(String id) throws Exception {
    long until = System.nanoTime() + 600_000_000_000L;
    while (System.nanoTime() < until) {
      var out = new java.io.StringWriter();
      CommandLine cl = Main.commandLine();
      cl.setOut(new java.io.PrintWriter(out));
      if (cl.execute("migration", "show", id, "--json") == 0
          && !dev.ferry.api.Json.mapper().readTree(out.toString()).get("status").asText().equals("running")) {
        return;
      }
      Thread.sleep(1000);
    }
    throw new IllegalStateException("migration " + id + " did not end within 10 min");
  }
}
