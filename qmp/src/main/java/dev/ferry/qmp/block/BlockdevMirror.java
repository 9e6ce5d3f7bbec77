package dev.ferry.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@code blockdev-mirror}: copies node {@code device} to node {@code target} while the guest
 * runs. The job reports {@code BLOCK_JOB_READY} once source and target are in sync; then
 * {@link BlockJobComplete} pivots to the target, or {@link BlockJobCancel} (not forced) leaves a
 * consistent copy on it. Events name the job by {@code jobId}.
 *
 * @param jobId the job id, reported as {@code device} by {@code BLOCK_JOB_*} events and as
 *     {@code id} by {@code JOB_STATUS_CHANGE}
 * @param device the source node: the format node (e.g. {@code disk0}), not its file node
 * @param target the target node, added before with {@link BlockdevAdd}
 * @param sync what to copy
 * @param copyMode whether guest writes wait for the target
 * @param autoDismiss false to keep the concluded job until {@link JobDismiss}, so its outcome can
 *     be read after a control-plane restart
 * @param autoFinalize QEMU's default (true) when empty
 * @param speed rate limit in bytes per second, 0 for none; QEMU's default (none) when empty
 * @param granularity dirty-tracking granularity in bytes (a power of two, 512 B to 64 MiB);
 *     QEMU picks one from the target's cluster size when empty
 * @param bufSize bytes the job may have in flight at once; QEMU's default (16 MiB) when empty
 */
public record BlockdevMirror(String jobId, String device, String target, Sync sync,
    CopyMode copyMode, boolean autoDismiss, Optional<Boolean> autoFinalize, OptionalLong speed,
    OptionalLong granularity, OptionalLong bufSize) implements QmpCommand<Void> {

  /** QAPI {@code MirrorSyncMode}, the values {@code blockdev-mirror} accepts. */
  public enum Sync {
    /** the whole image, including what backing files provide */
    FULL("full"),
    /** only the top image, not its backing chain */
    TOP("top"),
    /** only writes made after the job started */
    NONE("none");

    private final String qapi;

    Sync(String qapi) {
      this.qapi = qapi;
    }

    /** The value on the wire. */
    public String qapi() {
      return qapi;
    }
  }

  /** QAPI {@code MirrorCopyMode}. */
  public enum CopyMode {
    /** guest writes go to the source only and are copied later; may never converge */
    BACKGROUND("background"),
    /** guest writes to already copied areas also go to the target before completing */
    WRITE_BLOCKING("write-blocking");

    private final String qapi;

    CopyMode(String qapi) {
      this.qapi = qapi;
    }

    /** The value on the wire. */
    public String qapi() {
      return qapi;
    }
  }

  private static final long MAX_GRANULARITY = 64L << 20;

  public BlockdevMirror {
    ArgumentMap.requireName(jobId, "jobId");
    ArgumentMap.requireName(device, "device");
    ArgumentMap.requireName(target, "target");
    Objects.requireNonNull(sync, "sync");
    Objects.requireNonNull(copyMode, "copyMode");
    Objects.requireNonNull(autoFinalize, "autoFinalize");
    Objects.requireNonNull(speed, "speed");
    Objects.requireNonNull(granularity, "granularity");
    Objects.requireNonNull(bufSize, "bufSize");
    speed.ifPresent(s -> ArgumentMap.requireNonNegative(s, "speed"));
    granularity.ifPresent(g -> {
      ArgumentMap.requireGranularity(g, "granularity");
      if (g > MAX_GRANULARITY) {
        throw new IllegalArgumentException("granularity must be at most 64 MiB: " + g);
      }
    });
    bufSize.ifPresent(b -> {
      if (b <= 0) throw new IllegalArgumentException("bufSize must be positive: " + b);
    });
  }

  /** A mirror with QEMU's defaults for auto-finalize, speed and granularity. */
  public BlockdevMirror(String jobId, String device, String target, Sync sync, CopyMode copyMode,
      boolean autoDismiss) {
    this(jobId, device, target, sync, copyMode, autoDismiss, Optional.empty(),
        OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty());
  }

  /** This mirror with a rate limit, bytes per second (0 for none). */
  public BlockdevMirror withSpeed(long bytesPerSecond) {
    return new BlockdevMirror(jobId, device, target, sync, copyMode, autoDismiss, autoFinalize,
        OptionalLong.of(bytesPerSecond), granularity, bufSize);
  }

  /** This mirror with a dirty-tracking granularity in bytes. */
  public BlockdevMirror withGranularity(long bytes) {
    return new BlockdevMirror(jobId, device, target, sync, copyMode, autoDismiss, autoFinalize,
        speed, OptionalLong.of(bytes), bufSize);
  }

  /** This mirror with a buffer of {@code bytes} for the requests it has in flight. */
  public BlockdevMirror withBufSize(long bytes) {
    return new BlockdevMirror(jobId, device, target, sync, copyMode, autoDismiss, autoFinalize,
        speed, granularity, OptionalLong.of(bytes));
  }

  /** This mirror with an explicit auto-finalize. */
  public BlockdevMirror withAutoFinalize(boolean value) {
    return new BlockdevMirror(jobId, device, target, sync, copyMode, autoDismiss,
        Optional.of(value), speed, granularity, bufSize);
  }

  @Override
  public String name() {
    return "blockdev-mirror";
  }

  /** In the QAPI schema's order. */
  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create()
        .with("job-id", jobId)
        .with("device", device)
        .with("target", target)
        .with("sync", sync.qapi())
        .withOptional("speed", speed)
        .withOptional("granularity", granularity)
        .withOptional("buf-size", bufSize)
        .with("copy-mode", copyMode.qapi())
        .withOptional("auto-finalize", autoFinalize)
        .with("auto-dismiss", autoDismiss)
        .build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
