package dev.ferry.agent.ft;

/**
 * What one COLO self-test found.
 *
 * @param passed      COLO checkpointed and failed over on this binary
 * @param reason      the finding in words; for a failure, what failed
 * @param checkpoints checkpoints seen complete before the test ended
 * @param conclusive  false when the test could not judge the binary (no directory, no free port):
 *                    such a finding is not cached, the next agent start probes again
 */
record ColoOutcome(boolean passed, String reason, int checkpoints, boolean conclusive) {

  static ColoOutcome passed(String reason, int checkpoints) {
    return new ColoOutcome(true, reason, checkpoints, true);
  }

  static ColoOutcome failed(String reason, int checkpoints) {
    return new ColoOutcome(false, reason, checkpoints, true);
  }

  static ColoOutcome inconclusive(String reason) {
    return new ColoOutcome(false, reason, 0, false);
  }
}
