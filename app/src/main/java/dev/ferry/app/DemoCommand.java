package dev.ferry.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ferry demo}: the main job end to end on a local cluster, with the same commands a user
 * types. {@code ./ferry demo} builds the test guest first and passes it in FERRY_GUEST_DIR.
 */
@Command(name = "demo", description = "Start a 2-host local cluster, boot a self-checking VM on host1, move its disk and then the VM itself while it runs"
    + " (with a client connected to it over the cluster's network when there is one). 'ferry demo warm': a warm migration"
    + " instead, with its passes and the predicted vs actual cutover downtime.",
    subcommands = DemoWarm.class)
final class DemoCommand implements Callable<Integer> {

  static final String VM = "demo";

  @Option(names = "--watch", defaultValue = "12", paramLabel = "SECONDS",
      description = "how long to let the guest run before showing its console (default: ${DEFAULT-VALUE})")
  int watchSeconds;

  @Override
  public Integer call() throws Exception {
    Path guest = guestDir();
    // the cluster directory every later ferry command finds by itself (FERRY_CLUSTER_DIR or the default)
    Path cluster = dev.ferry.cli.Cli.defaultClusterDir();
    List<String> clusterDir = List.of("--dir", cluster.toString());

    step("bring up a local cluster of 2 hosts");
    run(concat(List.of("cluster", "up", "--hosts", "2"), clusterDir));

    step("put the test guest into the shared pool");
    Path pool = cluster.resolve("pools/shared/guest");
    Files.createDirectories(pool);
    Path kernel = copy(guest.resolve("vmlinuz"), pool);
    Path initrd = copy(guest.resolve("initrd.img"), pool);

    if (runQuiet(List.of("vm", "show", VM)) == 0) {
      step("remove the VM of an earlier demo");
      runQuiet(List.of("vm", "kill", VM));
      run(List.of("vm", "delete", VM));
    }

    // cluster up makes network 'default' when it can (root, dnsmasq); without it the demo runs without a NIC
    var network = dev.ferry.cli.cluster.LocalNetwork.recorded(cluster, "default");
    step("create and boot VM '" + VM + "' on host1: it dirties memory and writes its disk, checking both"
        + (network.isPresent() ? "; its NIC is on network 'default'" : ""));
    var create = new java.util.ArrayList<>(List.of("vm", "create", VM, "--host", "host1", "--memory", "256M", "--cpus",
        "1", "--kernel", kernel.toString(), "--initrd", initrd.toString(),
        "--append", "ferry.mem=32:8 ferry.disk=2:16", "--disk", "64M@local"));
    if (network.isPresent()) create.addAll(List.of("--nic", "default"));
    run(create);
    run(List.of("vm", "show", VM));

    step("the guest's console after " + watchSeconds + " s of work (FERRY lines are its own checks)");
    Thread.sleep(watchSeconds * 1000L);
    run(List.of("vm", "console", VM, "--tail", "12"));

    step("move the running VM's disk from pool 'local' to pool 'shared' while the guest writes to it");
    run(List.of("migrate", "storage", VM, "--to-pool", "shared"));
    run(List.of("vm", "show", VM));
    Thread.sleep(3000);
    step("the guest after the move: its disk checks still pass (errors=0) and the heartbeat never restarted");
    run(List.of("vm", "console", VM, "--tail", "9"));

    StreamClient client = null;
    if (network.isPresent()) {
      String ip = guestAddress();
      step("a client in the network's namespace connects to the guest's stream service (" + ip + ":7000): a numbered"
          + " line every 10 ms, each echoing what the client sent");
      System.out.println("$ ferry network exec default -- busybox nc " + ip + " 7000");
      client = new StreamClient(new ProcessBuilder("ip", "netns", "exec", network.get().namespace(), "/bin/busybox", "nc",
          ip, "7000").redirectError(ProcessBuilder.Redirect.DISCARD).start());
      awaitLines(client, 100);
      client.mark();
    }
    step("live-migrate the VM from host1 to host2 while it dirties memory and writes its disk"
        + (client != null ? ", the client connected" : ""));
    run(List.of("migrate", "live", VM, "--to", "host2"));
    run(List.of("migration", "show", lastMigration()));
    if (client != null) {
      long before = client.received();
      awaitLines(client, before + 100);
      step("the client's connection after the move: " + client.received() + " lines in order, longest silence "
          + Math.round(client.maxSilenceMs()) + " ms (QEMU's downtime is in the migration above), "
          + (client.problems().isEmpty() ? "no reset, gap, duplicate or reorder" : "PROBLEMS: " + client.problems()));
      boolean clean = client.problems().isEmpty();
      client.close();
      if (!clean) throw new IllegalStateException("the client's connection to the guest did not survive the move");
    }
    Thread.sleep(3000);
    step("the guest on host2: same boot id, heartbeat counting on, memory and disk checks clean");
    run(List.of("vm", "console", VM, "--tail", "9"));

    step("done: the cluster keeps running");
    System.out.println("  ./ferry vm console " + VM + " --follow   # watch the guest");
    System.out.println("  ./ferry cluster down                # stop the VMs and the cluster in " + cluster);
    return 0;
  }

  /** The id of the newest migration, as `ferry migration list --json` gives it. */
  static String lastMigration() throws Exception {
    var out = new java.io.StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new java.io.PrintWriter(out));
    if (cl.execute("migration", "list", "--json") != 0) throw new IllegalStateException("ferry migration list failed");
    return dev.ferry.api.Json.mapper().readTree(out.toString()).get(0).get("id").asText();
  }

  /** The guest's address from its DHCP lease, as {@code vm show} gives it once the guest asked for one. */
  private static String guestAddress() throws Exception {
    long until = System.nanoTime() + 90_000_000_000L;
    while (System.nanoTime() < until) {
      var out = new java.io.StringWriter();
      CommandLine cl = Main.commandLine();
      cl.setOut(new java.io.PrintWriter(out));
      if (cl.execute("vm", "show", VM, "--json") == 0) {
        String ip = dev.ferry.api.Json.mapper().readTree(out.toString()).at("/nics/0/ip").asText("");
        if (!ip.isBlank()) return ip;
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("the guest got no address on network 'default' within 90 s (see ferry vm console " + VM + ")");
  }

  private static void awaitLines(StreamClient client, long count) throws InterruptedException {
    long until = System.nanoTime() + 60_000_000_000L;
    while (client.received() < count) {
      if (!client.problems().isEmpty() || System.nanoTime() > until) {
        throw new IllegalStateException("the client's connection to the guest: " + client.received() + " lines, "
            + client.problems());
      }
      Thread.sleep(100);
    }
  }

  static Path guestDir() {
    String d = System.getenv("FERRY_GUEST_DIR");
    if (d == null || d.isBlank()) {
      throw new CommandLine.ParameterException(new CommandLine(new DemoCommand()),
          "FERRY_GUEST_DIR is not set: run the demo as ./ferry demo, which builds the test guest");
    }
    return Path.of(d);
  }

  static Path copy(Path file, Path dir) throws IOException {
    Path target = dir.resolve(file.getFileName());
    Files.copy(file, target, StandardCopyOption.REPLACE_EXISTING);
    return target;
  }

  static void step(String what) {
    System.out.println();
    System.out.println("==> " + what);
  }

  static void run(List<String> args) {
    System.out.println("$ ferry " + String.join(" ", args));
    int rc = Main.commandLine().execute(args.toArray(String[]::new));
    if (rc != 0) throw new IllegalStateException("demo step failed (exit " + rc + "): ferry " + String.join(" ", args));
  }

  static int runQuiet(List<String> args) {
    CommandLine cl = Main.commandLine();
    cl.setOut(new java.io.PrintWriter(java.io.OutputStream.nullOutputStream()));
    cl.setErr(new java.io.PrintWriter(java.io.OutputStream.nullOutputStream()));
    return cl.execute(args.toArray(String[]::new));
  }

  static List<String> concat(List<String> a, List<String> b) {
    return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
  }
}
