package io.cachestream.background;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls a condition in real time, bounded, for asynchronous effects such as a call finishing on a worker thread. */
final class Await {
  private Await() {}

  static void until(Duration timeout, BooleanSupplier condition) throws InterruptedException {
    until(timeout, condition, () -> "condition");
  }

  static void until(Duration timeout, BooleanSupplier condition, Supplier<String> description) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + description.get());
      Thread.sleep(5);
    }
  }
}
