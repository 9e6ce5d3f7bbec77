package dev.ferry.qmp;

/**
 * A registered event listener; {@link #close()} unsubscribes it. Once {@code close} returns the
 * listener gets no further events, except one it may be handling at that moment.
 */
public interface QmpSubscription extends AutoCloseable {

  /** Unsubscribes; idempotent. */
  @Override
  void close();
}
