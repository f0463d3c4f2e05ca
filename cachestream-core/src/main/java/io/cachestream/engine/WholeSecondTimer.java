package io.cachestream.engine;

import io.cachestream.LifecycleTimer;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The default {@link LifecycleTimer}: runs a step due in a second or more on the first whole second of the monotonic
 * clock at or after its due time, so that the steps of every resource that went idle within the same second share one
 * wake-up of the timer thread. At millisecond deadlines a burst of short-lived resources (a player's seeks, a
 * preloaded playlist) cost one wake-up per resource at its pause and again at its dispose: 4,000 of them kept the timer
 * thread busy 25-30 ms per second for ten seconds, nearly all of it parking and waking, on the cores that serve
 * clients. Such a step runs up to a second late, a tenth of the default pause period at most; a step due sooner (a
 * zero or sub-second period) runs on time.
 */
final class WholeSecondTimer implements LifecycleTimer {
  static final long TICK_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final ScheduledExecutorService executor;

  WholeSecondTimer(ScheduledExecutorService executor) {
    this.executor = executor;
  }

  @Override
  public Cancellable schedule(Runnable task, Duration delay) {
    long nanos;
    try {
      nanos = delay.toNanos();
    } catch (ArithmeticException moreThan292Years) {
      nanos = Long.MAX_VALUE;
    }
    var future = executor.schedule(task, delayToTick(System.nanoTime(), nanos), TimeUnit.NANOSECONDS);
    return () -> future.cancel(false);
  }

  /**
   * The delay from {@code now} to the first whole second at or after {@code now + delay}, or {@code delay} itself
   * when it is shorter than a second (or too long for a second more to matter).
   */
  static long delayToTick(long now, long delay) {
    if (delay < TICK_NANOS || delay > Long.MAX_VALUE / 2) {
      return Math.max(0, delay);
    }
    long past = Math.floorMod(now + delay, TICK_NANOS); // a sum that wraps around only shifts the grid
    return past == 0 ? delay : delay + TICK_NANOS - past;
  }
}
