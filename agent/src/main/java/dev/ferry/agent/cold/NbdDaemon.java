package dev.ferry.agent.cold;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code qemu-storage-daemon} the agent runs to serve images over NBD: the source's read-only
 * export for a cold copy, the target's writable export of a new qcow2, a local read-only export
 * to hash an image. The agent owns it by pid; its {@code --pidfile} path, unique per use, is on
 * its command line, so a pid the kernel gave to another process since is never killed.
 *
 * <p>Why qemu-storage-daemon and not qemu-nbd: one process serves every disk of a VM on one port
 * (one port of the migration range per migration), and it reads or writes every format through
 * QEMU's block layer, so the copier never parses qcow2.
 */
public final class NbdDaemon {

  /**
   * glibc's allocator for the daemon: buffers up to 32 MiB from its heap, kept there up to
   * 128 MiB. QEMU 7.2's NBD server allocates each request's buffer anew, and from 128 KiB on
   * glibc maps fresh pages for it and unmaps them after: on a VM whose balloon hands freed pages
   * back to its host, every request's pages are faulted in twice over. With these, the few
   * buffers in flight are reused, warm.
   */
  static final String MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=134217728";

  private NbdDaemon() {}

  /**
   * An image to serve: its format's block node is exported as {@code export}; with {@code direct}
   * its file is written and read past the host's page cache ({@code cache.direct=on}).
   */
  public record Image(String export, Path path, String format, boolean writable, boolean direct) {

    /** Through the page cache. */
    public Image(String export, Path path, String format, boolean writable) {
      this(export, path, format, writable, false);
    }
  }

  /** A remote NBD export to re-export locally (the TLS hop of a cold copy): QEMU's NBD client dials it. */
  public record Remote(String export, String host, int port) {}

  /** Where the daemon listens: TCP on the migration address, or a UNIX socket for local use. */
  public sealed interface Listen {
    record Tcp(String host, int port) implements Listen {}

    record Unix(Path socket) implements Listen {}
  }

  /**
   * TLS of the daemon's connections, with the host's TLS directory: as a server, only
   * {@code peerIdentity} ({@code CN=HOST}) gets in; as a client, the server's certificate must
   * name the address dialled.
   */
  public record Tls(Path dir, String peerIdentity) {}

  /** Serves {@code images} on {@code listen}; TLS when {@code tls} is not null (TCP only). */
  public static List<String> serve(Path binary, Path pidFile, Listen listen, List<Image> images, Tls tls) {
    List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--pidfile", pidFile.toString()));
    if (tls != null) {
      cmd.addAll(List.of("--object", "tls-creds-x509,id=tls0,endpoint=server,verify-peer=on,dir=" + escape(tls.dir()
          .toString()), "--object", "authz-simple,id=authz0,identity=" + escape(tls.peerIdentity())));
    }
    for (int i = 0; i < images.size(); i++) {
      Image img = images.get(i);
      String ro = img.writable() ? "off" : "on";
      cmd.add("--blockdev");
      cmd.add("driver=file,node-name=f" + i + ",filename=" + escape(img.path().toString()) + ",read-only=" + ro
          + (img.direct() ? ",cache.direct=on" : ""));
      cmd.add("--blockdev");
      cmd.add("driver=" + img.format() + ",node-name=d" + i + ",file=f" + i + ",read-only=" + ro
          + (img.writable() ? ",discard=unmap" : ""));
    }
    cmd.add("--nbd-server");
    cmd.add(address(listen) + (tls == null ? "" : ",tls-creds=tls0,tls-authz=authz0"));
    for (int i = 0; i < images.size(); i++) {
      cmd.add("--export");
      cmd.add("type=nbd,id=e" + i + ",node-name=d" + i + ",name=" + images.get(i).export() + ",writable="
          + (images.get(i).writable() ? "on" : "off"));
    }
    return cmd;
  }

  /**
   * Re-exports {@code remotes} (read-only, same names) on a local UNIX socket, dialling them over
   * TLS: Ferry's copier reads the local socket, QEMU's NBD client does the TLS to the source.
   */
  public static List<String> relay(Path binary, Path pidFile, Path socket, List<Remote> remotes, Path tlsDir) {
    List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--pidfile", pidFile.toString(), "--object",
        "tls-creds-x509,id=tls0,endpoint=client,dir=" + escape(tlsDir.toString())));
    for (int i = 0; i < remotes.size(); i++) {
      Remote r = remotes.get(i);
      cmd.add("--blockdev");
      cmd.add("driver=nbd,node-name=r" + i + ",server.type=inet,server.host=" + r.host() + ",server.port=" + r.port()
          + ",export=" + r.export() + ",tls-creds=tls0,tls-hostname=" + r.host() + ",read-only=on");
    }
    cmd.add("--nbd-server");
    cmd.add(address(new Listen.Unix(socket)));
    for (int i = 0; i < remotes.size(); i++) {
      cmd.add("--export");
      cmd.add("type=nbd,id=e" + i + ",node-name=r" + i + ",name=" + remotes.get(i).export() + ",writable=off");
    }
    return cmd;
  }

  private static String address(Listen listen) {
    return switch (listen) {
      case Listen.Tcp t -> "addr.type=inet,addr.host=" + t.host() + ",addr.port=" + t.port();
      case Listen.Unix u -> "addr.type=unix,addr.path=" + escape(u.socket().toString());
    };
  }

  /** Keyval options escape a comma by doubling it. */
  private static String escape(String value) {
    return value.replace(",", ",,");
  }

  /**
   * Starts the daemon and waits until it accepts connections; its output goes to {@code log}.
   * A daemon that exits first (e.g. its port was taken) fails with its output.
   */
  public static Process start(List<String> cmd, Listen listen, Path log) {
    Process p;
    try {
      Files.createDirectories(log.getParent());
      ProcessBuilder b = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      b.environment().merge("GLIBC_TUNABLES", MALLOC_TUNABLES, (had, ours) -> had + ":" + ours);
      p = b.start();
    } catch (IOException e) {
      throw new AgentException(Kind.UNAVAILABLE, "cannot start " + cmd.getFirst() + ": " + e.getMessage(), e);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!listening(listen)) {
      if (!p.isAlive()) {
        throw new AgentException(Kind.UNAVAILABLE, "qemu-storage-daemon exited with " + p.exitValue() + ": "
            + read(log));
      }
      if (System.nanoTime() > deadline) {
        p.destroyForcibly();
        throw new AgentException(Kind.UNAVAILABLE, "qemu-storage-daemon did not listen within 15 s: " + read(log));
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new AgentException(Kind.INTERNAL, "interrupted starting qemu-storage-daemon", e);
      }
    }
    return p;
  }

  private static boolean listening(Listen listen) {
    return switch (listen) {
      // the socket file appears at bind(), before listen(): only a connection proves it accepts
      case Listen.Unix u -> {
        if (!Files.exists(u.socket())) yield false;
        try (var ch = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
          ch.connect(java.net.UnixDomainSocketAddress.of(u.socket()));
          yield true;
        } catch (IOException e) {
          yield false;
        }
      }
      case Listen.Tcp t -> {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress(t.host(), t.port()), 200);
          yield true;
        } catch (IOException e) {
          yield false;
        }
      }
    };
  }

  /**
   * Stops the daemon of {@code pid} if it still is the one started with {@code pidFile}: SIGTERM,
   * then SIGKILL after 5 s; waits for it to be gone, so its image locks are released.
   */
  public static void stop(long pid, Path pidFile) {
    var handle = ProcessHandle.of(pid).filter(h -> ours(pid, pidFile));
    if (handle.isEmpty()) return;
    handle.get().destroy();
    try {
      handle.get().onExit().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      handle.get().destroyForcibly();
      try {
        handle.get().onExit().get(5, TimeUnit.SECONDS);
      } catch (Exception again) {
        throw new AgentException(Kind.INTERNAL, "qemu-storage-daemon (pid " + pid + ") survived SIGKILL for 5 s");
      }
    }
  }

  private static boolean ours(long pid, Path pidFile) {
    try {
      String cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"), StandardCharsets.UTF_8);
      return cmdline.contains(pidFile.toString());
    } catch (IOException e) {
      return false;
    }
  }

  static String read(Path log) {
    try {
      return Files.readString(log, StandardCharsets.UTF_8).strip().replaceAll("\\s+", " ");
    } catch (IOException e) {
      return "(no output)";
    }
  }
}
