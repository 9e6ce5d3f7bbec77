package dev.ferry.qmp;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/** Blocking waits on the client's futures, with one policy for failures and interrupts. */
final class Futures {

  private Futures() {}

  /** Waits without a limit of its own: the call's deadline timer always settles the future. */
  static <T> T await(CompletableFuture<T> future, String what) {
    return await(future, null, null, what);
  }

  /**
   * Waits for {@code future}; rethrows its failure as is. An interrupt cancels the future,
   * restores the interrupt status and throws {@link CancellationException}: interruption is the
   * caller's own cancellation, not a QMP failure, so it stays outside {@link QmpException}.
   */
  static <T> T await(CompletableFuture<T> future, Duration timeout,
      Supplier<? extends QmpException> onTimeout, String what) {
    try {
      return timeout == null
          ? future.get()
          : future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      future.cancel(false);
      throw onTimeout.get();
    } catch (ExecutionException e) {
      throw unchecked(e.getCause());
    } catch (InterruptedException e) {
      future.cancel(false);
      Thread.currentThread().interrupt();
      throw new CancellationException("interrupted while waiting for " + what);
    }
  }

  private static RuntimeException unchecked(Throwable cause) {
    return switch (cause) {
      case RuntimeException e -> e;
      case Error e -> throw e;
      default -> new IllegalStateException("unexpected checked failure", cause);
    };
  }
}
