package dev.ferry.agent.ftpair;

import dev.ferry.api.agent.FtProtectRequest;
import java.nio.file.Path;

/** {@link FencerTest}'s stand-in agent: starts a VM's fencer, armed, as the agent does, and exits. */
final class FencerLaunch {

  private FencerLaunch() {}

  /** {@code VM ADDRESS PORT QEMU_PID DIR} */
  public static void main(String[] args) {
    var req = new FtProtectRequest("host2", args[1], 1, 2, 100, Integer.parseInt(args[2]), "tok");
    FencerProcess.startOrAdopt(args[0], req, Long.parseLong(args[3]), Path.of(args[4]), true);
    System.exit(0);
  }
}
