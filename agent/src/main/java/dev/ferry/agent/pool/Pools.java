package dev.ferry.agent.pool;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.JsonFiles;
import dev.ferry.agent.qemu.QemuUser;
import dev.ferry.api.Json;
import dev.ferry.api.Names;
import dev.ferry.api.PoolView;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pools of this host, persisted in {@code DIR/pools.json}. Defining a pool is idempotent for
 * the same path, so the controller can repeat it after a failure; another path under the same
 * name is a conflict, since disks and VMs already point into the old one.
 */
public final class Pools {

  private static final Logger log = LoggerFactory.getLogger(Pools.class);

  /** What pools.json holds per pool. */
  record Entry(String name, String path, boolean shared) {}

  /** The result of {@link #define}: the pool and whether this call created it. */
  public record Defined(PoolView view, boolean created) {}

  private final Path file;
  private final String host;
  private final PoolRoots roots;
  private final QemuUser qemuUser;
  private final Map<String, Pool> pools = new LinkedHashMap<>();

  private Pools(Path file, String host, PoolRoots roots, QemuUser qemuUser) {
    this.file = file;
    this.host = host;
    this.roots = roots;
    this.qemuUser = qemuUser;
  }

  /** Loads {@code dataDir/pools.json} with the default roots ({@link PoolRoots#defaults}). */
  public static Pools load(Path dataDir, String host) {
    return load(dataDir, host, PoolRoots.defaults(dataDir));
  }

  /**
   * Loads {@code dataDir/pools.json}; none yet means no pools. A pool outside {@code roots} (defined
   * before the roots were narrowed) is left out, loudly: serving it would undo the operator's choice.
   */
  public static Pools load(Path dataDir, String host, PoolRoots roots) {
    return load(dataDir, host, roots, QemuUser.current());
  }

  /** As {@link #load(Path, String, PoolRoots)}; images made in the pools are handed over to {@code qemuUser}. */
  public static Pools load(Path dataDir, String host, PoolRoots roots, QemuUser qemuUser) {
    var p = new Pools(dataDir.resolve("pools.json"), host, roots, qemuUser);
    if (Files.exists(p.file)) {
      List<Entry> entries = JsonFiles.read(p.file, Json.mapper().getTypeFactory()
          .constructType(new TypeReference<List<Entry>>() {}));
      for (Entry e : entries) {
        Pool pool = new Pool(e.name(), Path.of(e.path()), e.shared());
        if (roots.allows(pool.path())) {
          p.pools.put(e.name(), pool);
        } else {
          log.error("pool {} at {} is outside the allowed pool roots {}; not serving it (add --pool-root or move it)",
              e.name(), e.path(), roots.describe());
        }
      }
    }
    return p;
  }

  public synchronized Defined define(String name, String path, boolean shared) {
    if (!Names.valid(name)) throw AgentException.badInput("name", name, Names.RULE);
    Path dir = roots.requireAllowed("path", path);
    Pool existing = pools.get(name);
    if (existing != null && !existing.path().equals(dir)) {
      throw new AgentException(Kind.CONFLICT, "pool " + name + " already exists with path " + existing.path()
          + ", not " + dir);
    }
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw AgentException.badInput("path", path, "a directory the agent can create (" + e.getMessage() + ")");
    }
    roots.requireAllowedReal("path", path, dir);
    String unreachable = qemuUser.unreachable(dir);
    if (unreachable != null) throw AgentException.badInput("path", path, "a directory QEMU can open images in; " + unreachable);
    Pool pool = new Pool(name, dir, shared);
    if (!pool.equals(existing)) {
      pools.put(name, pool);
      save();
    }
    return new Defined(view(pool), existing == null);
  }

  public synchronized List<Pool> all() {
    return List.copyOf(pools.values());
  }

  public synchronized Pool get(String name) {
    return find(name).orElseThrow(() -> new AgentException(Kind.NOT_FOUND,
        "pool '" + name + "' does not exist on host " + host + "; pools: " + PathGuard.describe(pools.values())));
  }

  public synchronized Optional<Pool> find(String name) {
    return Optional.ofNullable(pools.get(name));
  }

  public List<PoolView> views() {
    return all().stream().map(this::view).toList();
  }

  /** The path guard: the real path of {@code userPath} if it lies inside one of these pools, else bad input naming {@code field}. */
  public Path guard(String field, String userPath) {
    return PathGuard.require(field, userPath, all());
  }

  /** An image the agent made in a pool for QEMU: the QEMU user's, 0600, whatever the umask. */
  public void handOver(Path image) {
    qemuUser.handOver(image);
  }

  /**
   * Refuses {@code bytes} more in {@code pool} when its file system has less free space than that:
   * an image that cannot be filled fails the guest with I/O errors later, far from the request.
   */
  public void requireSpace(String field, Pool pool, long bytes) {
    long free;
    try {
      free = Files.getFileStore(pool.path()).getUsableSpace();
    } catch (IOException e) {
      throw new AgentException(Kind.UNAVAILABLE, "cannot read the free space of pool " + pool.name() + " at " + pool.path()
          + ": " + e.getMessage(), e);
    }
    if (bytes > free) {
      throw AgentException.insufficient(field, Long.toString(bytes), "at most the free space of pool " + pool.name()
          + " (" + free + " bytes)");
    }
  }

  PoolView view(Pool pool) {
    long capacity = 0;
    long free = 0;
    try {
      FileStore store = Files.getFileStore(pool.path());
      capacity = store.getTotalSpace();
      free = store.getUsableSpace();
    } catch (IOException e) {
      // a pool whose directory is gone reports no space rather than failing the whole listing
    }
    return new PoolView(pool.name(), host, pool.path().toString(), pool.shared(), capacity, free);
  }

  private void save() {
    var entries = new ArrayList<Entry>();
    for (Pool p : pools.values()) entries.add(new Entry(p.name(), p.path().toString(), p.shared()));
    JsonFiles.write(file, entries);
  }
}
