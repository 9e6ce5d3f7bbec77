package dev.ferry.cli.migration;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.MigrationStatus;
import dev.ferry.api.MigrationView;
import dev.ferry.cli.CliException;
import dev.ferry.cli.client.ControllerClient;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/**
 * Follows one migration, of any kind, until its status is final: polls
 * {@code GET /api/migrations/ID} every poll interval and hands each view that differs from the
 * last one to a {@link Listener} ({@link ProgressLine} for people, {@link JsonLines} for scripts).
 *
 * <p>Polling rather than the SSE stream keeps it simple and robust: a controller restart in the
 * middle (it recovers the migration from its store) is ridden out by retrying for
 * {@link #patience}; only then, or on a non-transient answer such as 404, following stops with
 * an error. Following never changes the migration: Ctrl-C ends the process, a shutdown hook says
 * the migration goes on and how to cancel it, and nothing is sent.
 */
final class MigrationFollower {

  /** What is shown while following. */
  interface Listener {
    /** A view that differs from the one before (the first view, too; the final view last). */
    void changed(MigrationView view);

    /** The status is final; nothing more will be shown. */
    default void finished(MigrationView view) {}

    /** A one-line remark for the user, such as a lost controller being retried. */
    void note(String message);
  }

  private final ControllerClient api;
  private final Duration pollInterval;
  private final PrintWriter err;

  /** How long the controller may stay unreachable (or answer 5xx) before following gives up. */
  Duration patience = Duration.ofSeconds(60);
  InstantSource clock = InstantSource.system();

  MigrationFollower(ControllerClient api, Duration pollInterval, PrintWriter err) {
    this.api = api;
    this.pollInterval = pollInterval;
    this.err = err;
  }

  /** Shows {@code first} and every change after it; answers the view with a final status. */
  MigrationView follow(MigrationView first, Listener listener) {
    Thread onCtrlC = new Thread(() -> {
      err.println();
      err.println("ferry: stopped following migration " + first.id() + "; it goes on: 'ferry migration show "
          + first.id() + "' to check, 'ferry migration cancel " + first.id() + "' to cancel it");
      err.flush();
    }, "ferry-follow-" + first.id());
    Runtime.getRuntime().addShutdownHook(onCtrlC);
    try {
      return poll(first, listener);
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(onCtrlC);
      } catch (IllegalStateException e) {
        // the JVM is already shutting down: the hook runs, which is what we want
      }
    }
  }

  private MigrationView poll(MigrationView first, Listener listener) {
    String path = MigrationCommand.path(ApiPaths.MIGRATION, first.id());
    MigrationView view = first;
    listener.changed(view);
    Instant lastAnswer = clock.instant();
    boolean noted = false;
    while (!isFinal(view)) {
      pause(first.id());
      MigrationView next;
      try {
        next = api.get(path, MigrationView.class);
      } catch (CliException e) {
        if (!isTransient(e)) throw e;
        Duration silent = Duration.between(lastAnswer, clock.instant());
        if (silent.compareTo(patience) > 0) {
          throw new CliException(CliException.Kind.UNREACHABLE, "gave up following migration " + first.id()
              + " after " + silent.toSeconds() + " s without an answer (" + e.getMessage()
              + "); it may still be running: see 'ferry migration show " + first.id() + "'", e);
        }
        if (!noted) listener.note(e.getMessage() + "; still trying to follow migration " + first.id());
        noted = true;
        continue;
      }
      lastAnswer = clock.instant();
      noted = false;
      if (!next.equals(view)) listener.changed(next);
      view = next;
    }
    listener.finished(view);
    return view;
  }

  static boolean isFinal(MigrationView view) {
    return view.status() != MigrationStatus.RUNNING;
  }

  /** Worth asking again: no answer at all, or a controller that is (re)starting. */
  static boolean isTransient(CliException e) {
    return e.kind() == CliException.Kind.UNREACHABLE
        || (e.kind() == CliException.Kind.API && e.status() >= 500);
  }

  /** Throws the failure a failed or cancelled migration is for the exit code (1) and stderr. */
  static void requireSucceeded(MigrationView view) {
    if (view.status() == MigrationStatus.SUCCEEDED) return;
    String reason = view.reason() == null || view.reason().isBlank() ? "no reason given by the controller"
        : view.reason().replaceAll("\\s*\\R\\s*", " ").strip();
    if (view.status() == MigrationStatus.CANCELLED) reason = "cancelled: " + reason;
    throw new CliException(CliException.Kind.OUTCOME, "migration " + view.id() + " failed: " + reason);
  }

  private void pause(String id) {
    try {
      Thread.sleep(pollInterval);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(CliException.Kind.LOCAL, "interrupted while following migration " + id, e);
    }
  }
}
