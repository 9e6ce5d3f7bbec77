package dev.ferry.controller.migration;

/**
 * What every persisted phase of a migration knows about itself, so that no runner, no recovery
 * and no cancel re-derives it: which side of the point of no return it is on, what a failure in it
 * does, and what a restarted controller does with a migration it finds in it. Live and storage
 * migrations implement it with their enums; cold, warm and fault-tolerant ones will too.
 */
interface MigrationPhase {

  /** Which side of the point of no return a phase is on. */
  enum Side {
    /** the guest's only current copy is where it started: undoing is safe */
    BEFORE,
    /** the newest state is (or may be) at the destination: only forward */
    PAST,
    /** the migration ended; nothing is done any more */
    FINAL
  }

  /** What a failure of the phase's own step does. */
  enum OnFailure {
    /** go to the runner's rollback phase, with the failure as the reason */
    ROLL_BACK,
    /** stay in the phase, shown as {@code stuck: REASON}, and try again with backoff until it goes through */
    RETRY,
    /** a final phase has no step */
    NONE
  }

  /** What a controller that finds a migration in this phase after a restart does, and why. */
  record Recovery(Action action, String why) {
    enum Action {
      /** move to the rollback phase first: what was under way cannot be watched again safely */
      ROLL_BACK,
      /** run the phase's step again: it observes before it acts */
      RESUME,
      /** final: nothing to do */
      NOTHING
    }
  }

  /** A phase's three rules, held by each constant. */
  record Rules(Side side, OnFailure onFailure, Recovery recovery) {
    static Rules of(Side side, OnFailure onFailure, Recovery.Action restart, String why) {
      return new Rules(side, onFailure, new Recovery(restart, why));
    }
  }

  String name();

  Rules rules();

  default Side side() {
    return rules().side();
  }

  default OnFailure onFailure() {
    return rules().onFailure();
  }

  default Recovery recovery() {
    return rules().recovery();
  }

  /** Whether the runner may move from this phase to {@code next}: forward only, plus the edges a phase names. */
  boolean canMoveTo(MigrationPhase next);

  default boolean terminal() {
    return side() == Side.FINAL;
  }

  default boolean pastPointOfNoReturn() {
    return side() == Side.PAST;
  }

  /** The phase as the store and the API spell it. */
  default String text() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
