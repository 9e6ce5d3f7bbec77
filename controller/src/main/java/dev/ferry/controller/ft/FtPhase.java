package dev.ferry.controller.ft;

import java.util.Arrays;
import java.util.Locale;
import java.util.Set;

/**
 * The persisted phase of a VM's fault tolerance, from {@code ft enable} until the row goes away
 * ({@code ft disable}). Phases only move forward ({@link #canMoveTo}, compare-and-set in the
 * store); each has the state {@code ft status} shows. Before {@link #PROTECTED} a failure rolls
 * the enable back (the guest never stopped running on the primary); from {@link #PROTECTED} on,
 * the secondary is a running part of the VM and only {@code ft disable} or a failover ends it.
 */
public enum FtPhase {
  /** the secondary's agent builds the replicas, overlays and a listening secondary QEMU */
  PREPARING("syncing"),
  /** the primary mirrors each disk to the replicas, then starts COLO */
  SYNCING("syncing"),
  /** COLO runs: checkpoints every interval, disk writes replicated */
  PROTECTED("protected"),
  /**
   * the primary was lost (or a planned {@code ft failover}): the secondary takes over. Before the
   * record says {@code takeoverAsked} a planned failover may still go back to {@link #PROTECTED};
   * after it only forward (the point of no return)
   */
  FAILING_OVER("failing_over"),
  /**
   * one host runs the VM alone: the secondary was lost, or took over from the primary;
   * {@code reason} says which. Unless the enable said otherwise, a new secondary is built on the
   * first eligible host (back to {@link #PREPARING}, shown as {@code reprotecting})
   */
  UNPROTECTED("unprotected"),
  /** an enable failed before protection: the primary's half-done plumbing and the secondary go */
  ROLLING_BACK("disabling"),
  /** the enable was rolled back; the VM runs plain on the primary; {@code reason} says why */
  FAILED("unprotected"),
  /** ft disable: COLO ends on the primary, the secondary is removed, then the row */
  DISABLING("disabling");

  private final String state;

  FtPhase(String state) {
    this.state = state;
  }

  /** As stored and shown: lower case. */
  public String text() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** What {@code ft status} calls it. */
  public String state() {
    return state;
  }

  public static FtPhase of(String text) {
    return Arrays.stream(values()).filter(p -> p.text().equals(text)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown ft phase '" + text + "'"));
  }

  /** Whether the VM counts as under fault tolerance: migrations, stop and delete are refused. */
  public boolean guards() {
    return this != FAILED;
  }

  boolean canMoveTo(FtPhase next) {
    return switch (this) {
      case PREPARING -> Set.of(SYNCING, ROLLING_BACK, DISABLING).contains(next);
      case SYNCING -> Set.of(PROTECTED, ROLLING_BACK, DISABLING).contains(next);
      case PROTECTED -> Set.of(FAILING_OVER, UNPROTECTED, DISABLING).contains(next);
      case FAILING_OVER -> Set.of(UNPROTECTED, PROTECTED).contains(next);
      // re-protection: a new secondary is built as at enable, and a failed one leaves the VM unprotected again
      case UNPROTECTED -> Set.of(PREPARING, DISABLING).contains(next);
      case ROLLING_BACK -> next == FAILED || next == UNPROTECTED;
      case FAILED -> next == DISABLING;
      case DISABLING -> false;
    };
  }
}
