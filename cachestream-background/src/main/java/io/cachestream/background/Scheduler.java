package io.cachestream.background;

import java.time.Duration;

/**
 * Runs delayed tasks: retry backoff and network probes. Replace it (together with the {@link java.time.Clock}) in tests
 * so nothing waits in real time.
 *
 * <p>Threading: {@link #schedule} may be called from any thread; tasks must run on a thread other than the caller's
 * (or later, never inline) and should be quick, since they only hand requests back to the queue.
 */
public interface Scheduler {

  /** Runs {@code task} once after {@code delay} (zero or negative: as soon as possible). */
  Cancellable schedule(Duration delay, Runnable task);

  /** A scheduled task that can still be called off. */
  @FunctionalInterface
  interface Cancellable {
    /** Makes sure the task does not run if it has not started; no effect otherwise. */
    void cancel();
  }
}
