package dev.ferry.agent.qemu;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.Subprocess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The user QEMU runs as, and what it may open. A guest that escapes into QEMU gets this user's
 * rights: not root's, and no other VM's files but those of the same user.
 *
 * <p>The privileges are dropped <em>before</em> {@code exec} ({@code setpriv}), not by QEMU's own
 * {@code -runas}: {@code -sandbox elevateprivileges=deny} installs its seccomp filter during option
 * parsing, long before {@code -runas} calls {@code setuid}, which the filter then kills with
 * SIGSYS (seen with 7.2). Starting unprivileged also means QEMU opens even its first files (images,
 * kernel, QMP socket) with this user's rights, so what it can reach is exactly what the agent
 * hands over: the VM's run directory and images ({@link #handOver}), private to this user.
 *
 * @param name the user, e.g. {@code ferry-qemu}
 * @param drop whether QEMU runs as another user than the agent (the agent is root); otherwise
 *     QEMU simply runs as the agent's user
 */
public record QemuUser(String name, int uid, int gid, boolean drop) {

  /** The user a root agent runs QEMU as unless {@code --qemu-user} says otherwise. */
  public static final String DEFAULT = "ferry-qemu";
  /** What every QEMU runs under: no obsolete syscalls, no set*id, no fork/exec, no priority or affinity games. */
  public static final String SANDBOX = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny";
  static final Path USERFAULTFD_SYSCTL = Path.of("/proc/sys/vm/unprivileged_userfaultfd");
  private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");

  /** QEMU as the agent's own user: nothing to drop (an agent that is not root, and unit tests). */
  public static QemuUser current() {
    return new QemuUser(System.getProperty("user.name"), selfId("Uid:"), selfId("Gid:"), false);
  }

  /** The real id of this process from /proc/self/status (no subprocess per VM host). */
  private static int selfId(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(field)) return Integer.parseInt(line.substring(field.length()).strip().split("\\s+")[0]);
      }
    } catch (IOException | NumberFormatException e) {
      throw new AgentException(Kind.INTERNAL, "cannot read this process's " + field + " from /proc/self/status: " + e.getMessage(), e);
    }
    throw new AgentException(Kind.INTERNAL, "/proc/self/status has no " + field + " line");
  }

  /**
   * The user for {@code requested} ({@code --qemu-user}; null: {@link #DEFAULT} when the agent is
   * root). An agent that is not root cannot switch users: it refuses a different one rather than
   * pretending. Naming {@code root} keeps QEMU root, which an operator must ask for explicitly.
   */
  public static QemuUser resolve(String requested) {
    QemuUser self = current();
    if (self.uid() != 0) {
      if (requested != null && !requested.equals(self.name())) {
        throw new AgentException(Kind.INVALID, "--qemu-user " + requested + " needs an agent running as root; this agent runs as "
            + self.name() + " and runs QEMU as " + self.name());
      }
      return self;
    }
    String name = requested == null ? DEFAULT : requested;
    int uid = idOf("-u", name);
    return new QemuUser(name, uid, idOf("-g", name), uid != 0);
  }

  /** The QEMU command, wrapped so that it starts as this user, with a private umask. */
  public List<String> wrap(List<String> qemuArgs) {
    var cmd = new ArrayList<String>();
    // umask 077: whatever QEMU creates (console log, pid file, sockets, RAM dumps) is private to it
    cmd.addAll(List.of("/bin/sh", "-c", "umask 077 && exec \"$@\"", "qemu"));
    if (drop) {
      cmd.addAll(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--init-groups", "--no-new-privs", "--"));
    }
    cmd.addAll(qemuArgs);
    return cmd;
  }

  /**
   * Makes {@code file} (an image, a kernel, a backing layer) openable by QEMU and by no one else:
   * owned by this user, mode 0600. With nothing to drop only what the agent created is tightened.
   */
  public void handOver(Path file) {
    try {
      if (drop) Files.setAttribute(file, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
      if (drop) Files.setAttribute(file, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
      if (drop || isOwnedByAgent(file)) Files.setPosixFilePermissions(file, FILE);
    } catch (IOException | UnsupportedOperationException e) {
      throw new AgentException(Kind.INTERNAL, "cannot hand " + file + " over to QEMU user " + name + ": " + e.getMessage(), e);
    }
  }

  /**
   * The VM's run directory (QMP socket, pid file, console log, NBD sockets, RAM dumps): this
   * user's, 0700, every file in it 0600, whatever the umask was when an earlier run made them.
   */
  public void handOverRunDir(RunDir run) {
    Path dir = run.dir();
    try {
      Files.createDirectories(dir);
      own(dir, DIR);
      try (var files = Files.list(dir)) {
        for (Path f : files.toList()) {
          // the agent's own files stay the agent's (QEMU writes its log through an inherited descriptor)
          boolean agents = f.equals(run.qemuLog()) || f.equals(run.cmdline());
          if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
            if (agents) makePrivate(f);
            else own(f, FILE);
          }
        }
      }
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot prepare run directory " + dir + " for QEMU user " + name + ": "
          + e.getMessage(), e);
    }
  }

  /**
   * Null when this user can enter {@code dir} (every directory from {@code /} down to it lets it
   * pass), else which directory stops it and why. QEMU opens images and its run directory by path
   * with this user's rights, so a directory on the way that is private to root (a 0700 home or
   * temporary directory) makes every start fail with a bare "Permission denied".
   */
  public String unreachable(Path dir) {
    if (!drop) return null;
    for (Path p = dir.toAbsolutePath().normalize(); p != null; p = p.getParent()) {
      PosixFileAttributes a;
      try {
        a = Files.readAttributes(p, PosixFileAttributes.class);
      } catch (IOException e) {
        continue; // not there yet: the agent creates it, with its parent's reach
      }
      Set<PosixFilePermission> perms = a.permissions();
      int owner = (Integer) attribute(p, "unix:uid");
      int group = (Integer) attribute(p, "unix:gid");
      boolean passes = owner == uid ? perms.contains(PosixFilePermission.OWNER_EXECUTE)
          : group == gid ? perms.contains(PosixFilePermission.GROUP_EXECUTE)
          : perms.contains(PosixFilePermission.OTHERS_EXECUTE);
      if (!passes) {
        return "QEMU runs as user " + name + ", which cannot enter " + p + " (mode "
            + PosixFilePermissions.toString(perms) + ", owner " + a.owner().getName() + "); let it pass (chmod o+x " + p
            + ") or use a directory it can reach";
      }
    }
    return null;
  }

  /**
   * Null when this user may open {@code device} read-write by its mode, owner, group and this
   * user's groups; else what stops it and how to let it.
   */
  public String cannotReadWrite(Path device) {
    if (!drop) return null;
    try {
      PosixFileAttributes a = Files.readAttributes(device, PosixFileAttributes.class);
      Set<PosixFilePermission> perms = a.permissions();
      int owner = (Integer) attribute(device, "unix:uid");
      int group = (Integer) attribute(device, "unix:gid");
      boolean ok = owner == uid
          ? perms.containsAll(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE))
          : groups().contains(group)
              ? perms.containsAll(Set.of(PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE))
              : perms.containsAll(Set.of(PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE));
      if (ok) return null;
      return device + " cannot be opened read-write by QEMU user " + name + " (mode " + PosixFilePermissions.toString(perms)
          + ", owner " + a.owner().getName() + ", group " + a.group().getName() + "); add " + name + " to group "
          + a.group().getName() + " or give the device to a group it is in";
    } catch (IOException e) {
      return device + " cannot be examined: " + e.getMessage();
    }
  }

  private List<Integer> groups() {
    Subprocess.Result r = Subprocess.run(List.of("id", "-G", name), Duration.ofSeconds(10));
    if (r.exit() != 0) return List.of(gid);
    return java.util.Arrays.stream(r.out().strip().split("\\s+")).map(Integer::parseInt).toList();
  }

  private static Object attribute(Path p, String name) {
    try {
      return Files.getAttribute(p, name);
    } catch (IOException e) {
      return -1;
    }
  }

  /**
   * A directory QEMU reads or writes itself after it started, e.g. the TLS credentials its
   * {@code tls-creds-x509} object loads: this user's, 0700, every regular file in it 0600.
   */
  public void handOverDir(Path dir) {
    try (var files = Files.list(dir)) {
      own(dir, DIR);
      for (Path f : files.toList()) {
        if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) own(f, FILE);
      }
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot hand " + dir + " over to QEMU user " + name + ": " + e.getMessage(), e);
    }
  }

  /** A file the agent writes for itself only (the QEMU log it redirects into, the command line). */
  public static void makePrivate(Path file) {
    try {
      if (!Files.exists(file)) {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(FILE));
      }
      Files.setPosixFilePermissions(file, FILE);
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot make " + file + " private: " + e.getMessage(), e);
    }
  }

  /**
   * Why post-copy cannot work on this host, or null when it can. QEMU 7.2 asks the kernel for a
   * userfaultfd, which a process without CAP_SYS_PTRACE only gets when
   * {@code vm.unprivileged_userfaultfd} is 1. The agent does not flip that kernel-wide switch
   * behind the operator's back; it says what to set.
   */
  public String postcopyProblem() {
    return postcopyProblem(USERFAULTFD_SYSCTL);
  }

  String postcopyProblem(Path sysctl) {
    if (!drop && uid == 0) return null;
    String value;
    try {
      value = Files.readString(sysctl).strip();
    } catch (IOException e) {
      return null; // an older kernel without the switch lets everyone use userfaultfd
    }
    if (value.equals("1")) return null;
    return "QEMU runs as user " + name + " and vm.unprivileged_userfaultfd is " + value
        + ", so the kernel refuses it the userfaultfd post-copy needs; set it with"
        + " 'sysctl -w vm.unprivileged_userfaultfd=1' (persist it in /etc/sysctl.d/), or migrate with --postcopy never";
  }

  private void own(Path p, Set<PosixFilePermission> mode) throws IOException {
    if (drop) {
      Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
      Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
    }
    Files.setPosixFilePermissions(p, mode);
  }

  private boolean isOwnedByAgent(Path file) throws IOException {
    return ((Integer) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS)) == uid;
  }

  private static int idOf(String flag, String user) {
    var cmd = new ArrayList<>(List.of("id", flag));
    if (user != null) cmd.add(user);
    Subprocess.Result r = Subprocess.run(cmd, Duration.ofSeconds(10));
    if (r.exit() != 0) {
      throw new AgentException(Kind.INVALID, "QEMU user " + user + " does not exist on this host: create it"
          + " (the ferry package does; for tests and the demo scripts/bootstrap.sh does when run as root)"
          + " or name another with --qemu-user (" + r.out() + ")");
    }
    return Integer.parseInt(r.out().strip());
  }
}
