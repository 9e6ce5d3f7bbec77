package dev.ferry.agent.qemu.qmp;

import dev.ferry.qmp.QmpErrorException;
import dev.ferry.qmp.export.NbdServerStart;
import dev.ferry.qmp.export.NbdServerStop;
import java.nio.file.Path;
import java.util.Locale;

/**
 * QEMU's built-in NBD server, one per QEMU. QMP cannot ask whether it runs, so starting and
 * stopping read QEMU's refusal instead.
 */
public final class NbdServer {

  private final Qmp qmp;

  NbdServer(Qmp qmp) {
    this.qmp = qmp;
  }

  /** Starts the server on a UNIX socket; false when one already runs (then it is not ours to stop). */
  public boolean startUnix(Path socket) {
    return start(NbdServerStart.unix(socket));
  }

  /** Starts the server on TCP; false when one already runs (a retry). */
  public boolean startTcp(String host, int port) {
    return startTcp(host, port, null);
  }

  /** The same over {@code tls} (null: none). */
  public boolean startTcp(String host, int port, NbdServerStart.Tls tls) {
    return start(NbdServerStart.tcp(host, port).withTls(tls));
  }

  /** Stops the server. */
  public void stop() {
    qmp.call(new NbdServerStop());
  }

  /** Stops the server; nothing to do when none runs. */
  public void stopIfRunning() {
    try {
      stop();
    } catch (QmpErrorException e) {
      if (!notRunning(e)) throw e;
    }
  }

  /** Whether {@code e} is QEMU's refusal to stop a server that does not run. */
  public static boolean notRunning(RuntimeException e) {
    return e instanceof QmpErrorException q && q.desc().toLowerCase(Locale.ROOT).contains("not running");
  }

  private boolean start(NbdServerStart command) {
    try {
      qmp.call(command);
      return true;
    } catch (QmpErrorException e) {
      if (e.desc().toLowerCase(Locale.ROOT).contains("already running")) return false;
      throw e;
    }
  }
}
