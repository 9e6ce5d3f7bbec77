package dev.ferry.agent.pool;

import dev.ferry.agent.Subprocess;
import java.time.Duration;
import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.api.agent.VolumeCreateRequest;
import dev.ferry.api.agent.VolumeView;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Disk images in pools, made with {@code qemu-img create}. A volume name is a plain file name, so
 * the image always lands directly in its pool directory and never overwrites an existing file.
 */
public final class Volumes {

  private static final Logger log = LoggerFactory.getLogger(Volumes.class);
  static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9.-]{0,100}");
  static final String NAME_RULE = "a plain file name: 1-101 characters of lower-case letters, digits, '.' and '-',"
      + " starting with a letter or digit";
  private static final List<String> FORMATS = List.of("qcow2", "raw");

  private final Pools pools;
  private final Path qemuImg;
  /** true for an image a running VM has open; such an image is never deleted */
  private final Predicate<Path> inUse;

  public Volumes(Pools pools, Path qemuImg, Predicate<Path> inUse) {
    this.pools = pools;
    this.qemuImg = qemuImg;
    this.inUse = inUse;
  }

  static String requireName(String name) {
    if (name == null || !NAME.matcher(name).matches()) throw AgentException.badInput("name", name, NAME_RULE);
    return name;
  }

  public synchronized VolumeView create(VolumeCreateRequest req) {
    requireName(req.name());
    if (req.pool() == null) throw AgentException.badInput("pool", null, "the name of a pool of this host");
    String format = req.format() == null ? "qcow2" : req.format().toLowerCase(Locale.ROOT);
    if (!FORMATS.contains(format)) throw AgentException.badInput("format", req.format(), "qcow2 or raw");
    if (req.sizeBytes() <= 0 || req.sizeBytes() % 512 != 0) {
      throw AgentException.badInput("size_bytes", Long.toString(req.sizeBytes()), "a positive multiple of 512 bytes");
    }
    Pool pool = pools.get(req.pool());
    pools.requireSpace("size_bytes", pool, req.sizeBytes());
    Path path = pool.path().resolve(req.name());
    if (Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new AgentException(Kind.CONFLICT, "volume " + req.name() + " already exists in pool " + pool.name() + " at " + path);
    }
    run(List.of(qemuImg.toString(), "create", "-q", "-f", format, path.toString(), Long.toString(req.sizeBytes())));
    pools.handOver(path);
    log.info("created volume {} in pool {} ({}, {} bytes)", req.name(), pool.name(), format, req.sizeBytes());
    return new VolumeView(pool.name(), req.name(), path.toString(), format, req.sizeBytes());
  }

  public synchronized void delete(String poolName, String name) {
    requireName(name);
    Pool pool = pools.get(poolName);
    Path path = pool.path().resolve(name);
    if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new AgentException(Kind.NOT_FOUND, "volume " + name + " does not exist in pool " + poolName);
    }
    if (inUse.test(path)) {
      throw new AgentException(Kind.CONFLICT, "volume " + name + " in pool " + poolName + " is used by a running vm");
    }
    try {
      Files.delete(path);
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot delete " + path + ": " + e.getMessage(), e);
    }
    log.info("deleted volume {} in pool {}", name, poolName);
  }

  private static void run(List<String> cmd) {
    Subprocess.run(cmd, Duration.ofSeconds(60)).requireOk();
  }
}
