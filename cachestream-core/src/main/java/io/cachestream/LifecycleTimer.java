package io.cachestream;

import java.time.Duration;

/**
 * Schedules the lifecycle's pause and dispose steps. The default runs them on an internal timer thread; tests
 * inject their own to control time instead of sleeping.
 */
@FunctionalInterface
public interface LifecycleTimer {
  /**
   * Runs {@code task} once after {@code delay}, on any thread.
   *
   * @return a handle that cancels the task if it has not run yet
   */
  Cancellable schedule(Runnable task, Duration delay);

  /** A scheduled task that can still be called off. */
  @FunctionalInterface
  interface Cancellable {
    void cancel();
  }
}
