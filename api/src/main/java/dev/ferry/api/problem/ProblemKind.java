package dev.ferry.api.problem;

/**
 * What went wrong from the caller's point of view, and the HTTP status and title it answers with.
 * Each layer's exception root has its own enum of kinds implementing this, so the kind → status
 * table is written once per layer, in the enum itself, and the problem is built the same way.
 */
public interface ProblemKind {

  /** The HTTP status of a problem of this kind. */
  int status();

  /** The problem's title: short, lower-case, the same for every problem of this kind. */
  String title();
}
