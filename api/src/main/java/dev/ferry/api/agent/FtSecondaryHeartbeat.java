package dev.ferry.api.agent;

import java.time.Instant;

/**
 * {@code GET /agent/vms/NAME/ft-secondary/heartbeat}: what the secondary's agent knows of the
 * primary, without asking QEMU over QMP (the controller reads it ten times a second while a VM is
 * protected, and a secondary QEMU loading a checkpoint answers QMP late).
 *
 * @param qemuAlive          whether the secondary QEMU process lives
 * @param lastHeardAt        the primary agent's last heartbeat; null before the first
 * @param silentMs           how long since then (since the listener started, before the first)
 * @param streamOpen         whether the primary's COLO migration connection is established: a
 *                           primary QEMU that died had its socket closed by its kernel, so false
 *                           means that QEMU is gone even when its host's agent cannot say so
 * @param checkpointSilentMs how long since the secondary last resumed after loading a checkpoint
 *                           (since this agent watched it, before the first); the primary's QEMU
 *                           is alive and reaches the secondary while this stays within the interval
 * @param takenOver          the secondary took over: the VM is this host's now
 */
public record FtSecondaryHeartbeat(String vm, boolean qemuAlive, Instant lastHeardAt, long silentMs,
    boolean streamOpen, long checkpointSilentMs, boolean takenOver) {}
