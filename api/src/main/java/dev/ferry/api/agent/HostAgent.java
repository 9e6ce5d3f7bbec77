package dev.ferry.api.agent;

import dev.ferry.api.ConsoleChunk;
import dev.ferry.api.PoolView;
import java.time.Duration;
import java.util.List;

/**
 * The agent of one host, one method per endpoint ({@link AgentRoute}). The controller calls it
 * through {@link HttpHostAgent}; the agent serves it through {@link AgentRoutes}. {@code vm} is a
 * VM's name, {@code disk} a disk id of that VM. A refusal or failure is the implementation's
 * exception; over HTTP, what the caller made of the agent's problem document.
 */
public interface HostAgent {

  /**
   * This agent with {@code deadline} for each call instead of the default, for calls that wait on
   * QEMU or the guest (stop, preparing a target, verification). Without a transport it is itself.
   */
  default HostAgent within(Duration deadline) {
    return this;
  }

  /** The host's resources and VMs, as its heartbeat says them. */
  AgentHeartbeat host();

  List<PoolView> pools();

  /** Creates the pool's directory if needed and remembers the pool; idempotent. */
  Defined<PoolView> definePool(String pool, AgentPoolRequest request);

  /** A new disk image made with qemu-img. */
  VolumeView createVolume(VolumeCreateRequest request);

  void deleteVolume(String pool, String name);

  List<AgentVmStatus> vms();

  AgentVmStatus vm(String vm);

  /** Defines the VM, or redefines it while stopped; the same definition again is taken at any time. */
  Defined<AgentVmStatus> defineVm(String vm, AgentVmDefinition definition);

  /** Removes a stopped VM; a QEMU still waiting for its staged disks ({@link #stageVm}) is killed first. */
  void deleteVm(String vm, boolean deleteDisks);

  /** Starts the VM; one staged by {@link #stageVm} gets its disks and runs on. */
  AgentVmStatus start(String vm);

  /**
   * Starts the VM's QEMU paused without opening its disks (state {@code paused}), for a cutover
   * that must not wait for QEMU's start: {@link #start} later puts the disks under the devices and
   * runs it. A VM under fault tolerance answers {@code stopped} and starts plainly later. Answers
   * the status again while staged.
   */
  default AgentVmStatus stageVm(String vm) {
    throw new UnsupportedOperationException("staged start");
  }

  /** Graceful shutdown, killed after {@code timeout}; null leaves the agent's default. */
  AgentVmStatus stop(String vm, Duration timeout);

  /**
   * ACPI power-off that never forces: presses the power button until the guest powers off or
   * {@code timeout} has passed. A guest that refuses keeps running, untouched, and the answer says
   * {@code running}: a migration that asked for a clean shutdown must not lose the guest's page
   * cache to a kill.
   */
  AgentVmStatus powerDown(String vm, Duration timeout);

  /** Always goes through: the QEMU process is killed. */
  AgentVmStatus kill(String vm);

  /** The serial console from byte {@code offset}, or its last {@code tail} lines; both null: everything kept. */
  ConsoleChunk console(String vm, Long offset, Integer tail);

  // ---- storage migration: one disk's move, idempotent by its suffix

  Defined<MirrorStatus> mirror(String vm, String disk, MirrorRequest request);

  MirrorStatus mirrorStatus(String vm, String disk);

  /** Switches the VM to the new image: the point of no return of the move. */
  MirrorStatus pivot(String vm, String disk);

  /** Compares the new image with the old one as of the pivot; takes as long as reading both. */
  VerifyResult verify(String vm, String disk);

  /** Lets the old image go, deleting it unless {@code keepSource}. */
  MirrorStatus release(String vm, String disk, boolean keepSource);

  /** Before the pivot: the VM stays on its old image, the new one is removed. */
  MirrorStatus cancelMirror(String vm, String disk);

  // ---- live migration, target side

  /** A paused QEMU listening for the guest; a repeat answers the same ports. */
  IncomingReady incoming(String vm, IncomingRequest request);

  IncomingStatus incomingStatus(String vm);

  /** Kills the target QEMU and deletes the images it copied; the source keeps the guest. */
  void rollBackIncoming(String vm);

  /** After QEMU completed (or at the switch to post-copy): resume, the VM becomes this host's. */
  IncomingStatus finishIncoming(String vm);

  /** A paused post-copy: listen again; the answer's URI is for the source's resume. */
  IncomingReady recoverIncoming(String vm);

  // ---- live migration, source side

  MigrationStats outgoing(String vm, OutgoingRequest request);

  MigrationStats outgoingStats(String vm);

  /**
   * As {@link #outgoingStats(String)}, answered as soon as the migration's phase is no longer
   * {@code unlessPhase} (its wire name), or after {@code waitMs}: the caller learns of a switchover
   * or a completion when the agent's QEMU event moves the phase, without polling for it. An agent
   * that does not know the wait answers at once, as this default does.
   */
  default MigrationStats outgoingStats(String vm, String unlessPhase, int waitMs) {
    return outgoingStats(vm);
  }

  /** Whether {@link #outgoingStats(String, String, int)} may wait; callers of one that does not poll. */
  default boolean waitsForPhaseChange() {
    return false;
  }

  MigrationStats cancelOutgoing(String vm);

  MigrationStats postcopy(String vm);

  /** {@code migrate-pause} of a post-copy whose stream stalled. */
  MigrationStats pauseOutgoing(String vm);

  /** Changes QEMU migration parameters while pre-copy runs. */
  MigrationStats tuneOutgoing(String vm, MigrationTuning tuning);

  /** Reconnects a paused post-copy to the target's new address. */
  MigrationStats resumeOutgoing(String vm, PostcopyResume resume);

  /** After QEMU completed: the source QEMU quits and the VM is forgotten here. */
  MigrationStats completeOutgoing(String vm, boolean deleteSourceImages);

  /**
   * After QEMU completed, when the target's QEMU died before its guest ever ran: resumes the
   * source's paused, complete copy (the only one left) and ends the migration here as reclaimed.
   * Refused after post-copy and for another migration; idempotent.
   */
  MigrationStats reclaimOutgoing(String vm, OutgoingReclaim request);

  /**
   * After {@code ferry vm unlock}: forgets this host's record of the unlocked migration if no
   * runner drives it any more, leaving the source QEMU as it is; the answer is the record's last
   * stats. Refused while the migration still runs here.
   */
  MigrationStats unlockOutgoing(String vm, OutgoingUnlock request);

  /** A digest of every page of a paused guest's RAM. */
  MemoryDigest memoryDigest(String vm);

  // ---- prediction, source side

  /**
   * Starts measuring how fast the running guest dirties its memory for {@code calcTimeS} seconds
   * (QEMU's {@code calc-dirty-rate}, page sampling) and answers at once; a measurement already
   * under way is left to finish and answered as it is.
   */
  DirtyRate measureDirtyRate(String vm, long calcTimeS);

  /** The last dirty rate measurement of the VM's QEMU. */
  DirtyRate dirtyRate(String vm);

  // ---- cold migration: source exports, target pulls with Ferry's copier, both hash

  /** Serves the stopped VM's disks read-only over NBD; a repeat for the same migration answers the same export. */
  ColdExport coldExport(String vm, ColdExportRequest request);

  /** Stops the VM's export, if any; idempotent. */
  void stopColdExport(String vm);

  /** Chunk hashes of each of the VM's disks on this host. */
  List<DiskHashes> sourceHashes(String vm);

  /** Starts pulling into new images; a repeat answers the copy under way. */
  ColdCopyStatus coldCopy(String migrationId, ColdCopyRequest request);

  ColdCopyStatus coldCopyStatus(String migrationId);

  /** Stops the copy and deletes its images; idempotent (an unknown copy answers cancelled). */
  ColdCopyStatus cancelColdCopy(String migrationId);

  /** Chunk hashes of each new image, computed here. */
  List<DiskHashes> targetHashes(String migrationId);

  /** Forgets a finished copy, keeping its images: a VM defined on them owns them now. */
  ColdCopyStatus forgetColdCopy(String migrationId);

  // ---- warm migration: the source's QEMU serves its disks with dirty bitmaps, the target pulls pass by pass.
  // Defaults refuse, so test doubles need only what they use.

  /** Starts QEMU's NBD server and the first dirty bitmap; a repeat for the same migration answers how it stands. */
  default WarmSource warmSource(String vm, WarmSourceRequest request) {
    throw new UnsupportedOperationException("warm migration");
  }

  default WarmSource warmSourceStatus(String vm) {
    throw new UnsupportedOperationException("warm migration");
  }

  /** Rotates the bitmaps and exports the disks for the next pass; the current pass again answers it unchanged. */
  default WarmSource warmSourcePass(String vm, WarmPassRequest request) {
    throw new UnsupportedOperationException("warm migration");
  }

  /** ACPI power-off, waiting up to the timeout; QEMU stays. A guest that does not power off keeps running. */
  default WarmSource warmSourceShutdown(String vm, WarmShutdownRequest request) {
    throw new UnsupportedOperationException("warm migration");
  }

  /** After the final pass: bitmaps, exports and NBD server removed, QEMU quit (the VM is stopped here). */
  default WarmSource warmSourceFinish(String vm) {
    throw new UnsupportedOperationException("warm migration");
  }

  /**
   * After {@link #warmSourceFinish}: the chunk hashes of the VM's disks, kept current by the
   * passes (the target's {@link #warmCopyHashes} use the same chunks).
   */
  default List<DiskHashes> warmSourceHashes(String vm, WarmHashesRequest request) {
    throw new UnsupportedOperationException("warm migration");
  }

  /** Undoes {@link #warmSource}: bitmaps, exports and server removed; a powered-off guest boots again. Idempotent. */
  default void cancelWarmSource(String vm) {
    throw new UnsupportedOperationException("warm migration");
  }

  /** Makes the new images; passes follow with {@link #warmCopyPass}. */
  default WarmCopyStatus warmCopy(String migrationId, WarmCopyRequest request) {
    throw new UnsupportedOperationException("warm migration");
  }

  default WarmCopyStatus warmCopyPass(String migrationId, WarmPassCopy request) {
    throw new UnsupportedOperationException("warm migration");
  }

  default WarmCopyStatus warmCopyStatus(String migrationId) {
    throw new UnsupportedOperationException("warm migration");
  }

  /** Stops the pass and deletes the images; idempotent. */
  default WarmCopyStatus cancelWarmCopy(String migrationId) {
    throw new UnsupportedOperationException("warm migration");
  }

  default List<DiskHashes> warmCopyHashes(String migrationId) {
    throw new UnsupportedOperationException("warm migration");
  }

  /**
   * After the final pass: the copy's writer lets go of its images, and the copy's VM, staged here
   * by {@link #stageVm}, gets them under its devices, its guest still paused (its first boot is
   * {@link #start}'s). A cutover does it before its point of no return, so a target that cannot open
   * the images is found while the guest can still boot on the source. A VM with nothing staged (its
   * QEMU died) is left as it is: its start is then a plain one.
   */
  default WarmCopyStatus attachWarmCopy(String migrationId) {
    throw new UnsupportedOperationException("warm migration");
  }

  /** Forgets a finished copy, keeping its images: a VM defined on them owns them now. */
  default WarmCopyStatus forgetWarmCopy(String migrationId) {
    throw new UnsupportedOperationException("warm migration");
  }

  // ---- fault tolerance (COLO, issue 12)

  /** Builds the VM's COLO secondary here, listening for the primary; a repeat answers the same ports. */
  FtSecondaryStatus ftSecondary(String vm, FtSecondaryRequest request);

  FtSecondaryStatus ftSecondaryStatus(String vm);

  /** Kills the secondary QEMU and deletes its replica and overlays; idempotent. */
  void removeFtSecondary(String vm);

  /** On the primary: starts syncing to the secondary and then COLO; answers at once. */
  FtPrimaryStatus ftProtect(String vm, FtProtectRequest request);

  FtPrimaryStatus ftStatus(String vm);

  /** On the primary: back to a plain VM whatever protection reached (the guest runs on); idempotent. */
  FtPrimaryStatus ftUnprotect(String vm);

  /**
   * On the primary: stops its QEMU at once (SIGSTOP), so the guest produces nothing more, before
   * its secondary takes over (a planned failover, or a primary found fenced); idempotent.
   */
  FtPrimaryStatus ftFence(String vm);

  /** On the secondary: what it hears of the primary's heartbeats; asks no QEMU. */
  FtSecondaryHeartbeat ftSecondaryHeartbeat(String vm);

  /**
   * On the secondary: COLO failover ({@code x-colo-lost-heartbeat} and its cleanup); the secondary
   * QEMU goes on as this host's VM, running. Idempotent: after a takeover it answers the VM.
   */
  AgentVmStatus ftTakeover(String vm);
}
