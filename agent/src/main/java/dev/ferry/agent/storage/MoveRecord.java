package dev.ferry.agent.storage;

import dev.ferry.agent.qemu.BlockNodes;
import dev.ferry.api.agent.VerifyResult;
import java.time.Instant;

/**
 * The facts of one disk move, as {@code DIR/vms/NAME/moves/DISK.json} holds them: enough for a
 * restarted agent to find the job in QEMU (job id, the QEMU pid it runs in, node names) or the
 * background copy (its pid), and to clean up after it.
 *
 * @param mode         live (mirror in the running QEMU) or offline (qemu-img convert, VM stopped)
 * @param sourceNodes  the nodes the running QEMU used for the disk when the move began (live only)
 * @param targetNodes  the nodes added for the target (live only)
 * @param qemuPid      the QEMU the mirror job runs in (live only); another pid means the job is gone
 * @param copyPid      the background {@code sh} around qemu-img convert (offline only)
 * @param offset       bytes copied, as last observed
 * @param length       bytes to copy, as last observed
 * @param verify       the verification answered, so that a repeated verify answers the same
 * @param rolledForward QEMU ended during the pivot and the move was finished without it: the
 *                     target holds every completed write, the writes after the pivot are unknown
 * @param adaptiveRate the mirror's speed follows the guest's write latency ({@link RateLoop});
 *                     live only, and only without a fixed {@code bandwidthBytesPerS}
 * @param baselineWriteNs the guest's mean write latency just before the mirror started,
 *                     nanoseconds; 0 when not measured or the guest did not write
 */
record MoveRecord(
    String vm,
    String disk,
    String suffix,
    Mode mode,
    MovePhase phase,
    String pool,
    long bandwidthBytesPerS,
    String sourcePath,
    String sourceFormat,
    BlockNodes sourceNodes,
    String targetPath,
    String targetFormat,
    BlockNodes targetNodes,
    String jobId,
    Long qemuPid,
    Long copyPid,
    long offset,
    long length,
    Long pivotMs,
    String error,
    VerifyResult verify,
    boolean sourceKept,
    Instant created,
    boolean rolledForward,
    boolean adaptiveRate,
    long baselineWriteNs) {

  /** A move with a fixed rate (or none): no adaptive rate, no baseline. */
  MoveRecord(String vm, String disk, String suffix, Mode mode, MovePhase phase, String pool, long bandwidthBytesPerS,
      String sourcePath, String sourceFormat, BlockNodes sourceNodes, String targetPath, String targetFormat,
      BlockNodes targetNodes, String jobId, Long qemuPid, Long copyPid, long offset, long length, Long pivotMs,
      String error, VerifyResult verify, boolean sourceKept, Instant created, boolean rolledForward) {
    this(vm, disk, suffix, mode, phase, pool, bandwidthBytesPerS, sourcePath, sourceFormat, sourceNodes, targetPath,
        targetFormat, targetNodes, jobId, qemuPid, copyPid, offset, length, pivotMs, error, verify, sourceKept, created,
        rolledForward, false, 0);
  }

  /** How the disk is copied. */
  enum Mode {
    /** blockdev-mirror inside the running QEMU */
    LIVE,
    /** qemu-img convert while the VM is stopped */
    OFFLINE
  }

  MoveRecord withPhase(MovePhase next) {
    if (next.ordinal() < phase.ordinal() && next != MovePhase.FAILED) {
      throw new IllegalStateException("move of " + vm + "/" + disk + " cannot go back from " + phase + " to " + next);
    }
    return new MoveRecord(vm, disk, suffix, mode, next, pool, bandwidthBytesPerS, sourcePath, sourceFormat, sourceNodes,
        targetPath, targetFormat, targetNodes, jobId, qemuPid, copyPid, offset, length, pivotMs, error, verify, sourceKept,
        created, rolledForward, adaptiveRate, baselineWriteNs);
  }

  MoveRecord failed(String why) {
    return new MoveRecord(vm, disk, suffix, mode, MovePhase.FAILED, pool, bandwidthBytesPerS, sourcePath, sourceFormat,
        sourceNodes, targetPath, targetFormat, targetNodes, jobId, qemuPid, copyPid, offset, length, pivotMs, why, verify,
        sourceKept, created, rolledForward, adaptiveRate, baselineWriteNs);
  }

  MoveRecord withProgress(long newOffset, long newLength) {
    return new MoveRecord(vm, disk, suffix, mode, phase, pool, bandwidthBytesPerS, sourcePath, sourceFormat, sourceNodes,
        targetPath, targetFormat, targetNodes, jobId, qemuPid, copyPid, newOffset, newLength, pivotMs, error, verify,
        sourceKept, created, rolledForward, adaptiveRate, baselineWriteNs);
  }

  MoveRecord withCopyPid(long pid) {
    return new MoveRecord(vm, disk, suffix, mode, phase, pool, bandwidthBytesPerS, sourcePath, sourceFormat, sourceNodes,
        targetPath, targetFormat, targetNodes, jobId, qemuPid, pid, offset, length, pivotMs, error, verify, sourceKept,
        created, rolledForward, adaptiveRate, baselineWriteNs);
  }

  MoveRecord pivoted(Long ms) {
    return new MoveRecord(vm, disk, suffix, mode, MovePhase.PIVOTED, pool, bandwidthBytesPerS, sourcePath, sourceFormat,
        sourceNodes, targetPath, targetFormat, targetNodes, jobId, qemuPid, copyPid, offset, length, ms, error, verify,
        sourceKept, created, rolledForward, adaptiveRate, baselineWriteNs);
  }

  /** PIVOTED without QEMU: the definition names the target, whose content no live job vouches for. */
  MoveRecord pivotedWithoutQemu() {
    return new MoveRecord(vm, disk, suffix, mode, MovePhase.PIVOTED, pool, bandwidthBytesPerS, sourcePath, sourceFormat,
        sourceNodes, targetPath, targetFormat, targetNodes, jobId, qemuPid, copyPid, offset, length, null, error, verify,
        sourceKept, created, true, adaptiveRate, baselineWriteNs);
  }

  MoveRecord withVerify(VerifyResult result) {
    return new MoveRecord(vm, disk, suffix, mode, phase, pool, bandwidthBytesPerS, sourcePath, sourceFormat, sourceNodes,
        targetPath, targetFormat, targetNodes, jobId, qemuPid, copyPid, offset, length, pivotMs, error, result, sourceKept,
        created, rolledForward, adaptiveRate, baselineWriteNs);
  }

  /** Adaptive, from the baseline the guest showed just before the mirror. */
  MoveRecord withBaseline(long ns) {
    return new MoveRecord(vm, disk, suffix, mode, phase, pool, bandwidthBytesPerS, sourcePath, sourceFormat, sourceNodes,
        targetPath, targetFormat, targetNodes, jobId, qemuPid, copyPid, offset, length, pivotMs, error, verify, sourceKept,
        created, rolledForward, adaptiveRate, ns);
  }

  MoveRecord withAdaptiveRate(boolean on) {
    return new MoveRecord(vm, disk, suffix, mode, phase, pool, bandwidthBytesPerS, sourcePath, sourceFormat, sourceNodes,
        targetPath, targetFormat, targetNodes, jobId, qemuPid, copyPid, offset, length, pivotMs, error, verify, sourceKept,
        created, rolledForward, on, baselineWriteNs);
  }

  MoveRecord released(boolean kept) {
    return new MoveRecord(vm, disk, suffix, mode, MovePhase.RELEASED, pool, bandwidthBytesPerS, sourcePath, sourceFormat,
        sourceNodes, targetPath, targetFormat, targetNodes, jobId, qemuPid, copyPid, offset, length, pivotMs, error, verify,
        kept, created, rolledForward, adaptiveRate, baselineWriteNs);
  }
}
