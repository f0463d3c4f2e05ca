package io.cachestream.engine;

import static io.cachestream.engine.WholeSecondTimer.TICK_NANOS;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class WholeSecondTimerTest {
  @Test
  void aStepDueInASecondOrMoreMovesToTheNextWholeSecondAndNoFurther() {
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 10_000; i++) {
      long now = random.nextLong(-(1L << 61), 1L << 61);
      long delay = random.nextLong(TICK_NANOS, TimeUnit.DAYS.toNanos(400));
      long aligned = WholeSecondTimer.delayToTick(now, delay);
      assertThat(aligned).isBetween(delay, delay + TICK_NANOS - 1);
      assertThat(Math.floorMod(now + aligned, TICK_NANOS)).isZero();
    }
    assertThat(WholeSecondTimer.delayToTick(3 * TICK_NANOS, 10 * TICK_NANOS)).isEqualTo(10 * TICK_NANOS);
  }

  @Test
  void aStepDueSoonerThanASecondRunsOnTime() {
    assertThat(WholeSecondTimer.delayToTick(123_456_789, 0)).isZero();
    assertThat(WholeSecondTimer.delayToTick(123_456_789, 100_000_000)).isEqualTo(100_000_000);
    assertThat(WholeSecondTimer.delayToTick(123_456_789, TICK_NANOS - 1)).isEqualTo(TICK_NANOS - 1);
    assertThat(WholeSecondTimer.delayToTick(123_456_789, -5)).isZero();
  }

  @Test
  void aDelayTooLongForASecondToMatterIsKeptAsItIs() {
    assertThat(WholeSecondTimer.delayToTick(Long.MAX_VALUE - 10, Long.MAX_VALUE)).isEqualTo(Long.MAX_VALUE);
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    try {
      new WholeSecondTimer(executor).schedule(() -> {}, Duration.ofDays(365L * 1000)).cancel(); // past toNanos()
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void stepsDueWithinTheSameSecondRunTogetherInOneWakeUp() throws Exception {
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    try {
      WholeSecondTimer timer = new WholeSecondTimer(executor);
      int steps = 50;
      ConcurrentLinkedQueue<long[]> runs = new ConcurrentLinkedQueue<>(); // {due, ran}
      CountDownLatch done = new CountDownLatch(steps);
      for (int i = 0; i < steps; i++) {
        Duration delay = Duration.ofMillis(1000 + 10L * i); // due 10 ms apart, over half a second
        long due = System.nanoTime() + delay.toNanos();
        timer.schedule(() -> {
          runs.add(new long[] {due, System.nanoTime()});
          done.countDown();
        }, delay);
      }
      assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
      long wakeUps = 0;
      Long lastRan = null;
      for (long[] run : runs) {
        assertThat(run[1] - run[0]).as("never early").isNotNegative();
        if (lastRan == null || run[1] - lastRan > TimeUnit.MILLISECONDS.toNanos(5)) {
          wakeUps++; // the timer thread ran the others back to back
        }
        lastRan = run[1];
      }
      // At millisecond deadlines: fifty wake-ups. On whole seconds: one, or two when a second ends in between
      // (and a little room for a step preempted on a busy machine).
      assertThat(wakeUps).isBetween(1L, 4L);
    } finally {
      executor.shutdownNow();
    }
  }
}
