package io.cachestream.background;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A scheduler driven by a {@link ManualClock}: tasks run only when the test advances time, on a separate thread (as
 * the contract asks), so no test waits through real backoff.
 */
final class ManualScheduler implements Scheduler, AutoCloseable {
  private final ManualClock clock;
  private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "manual-scheduler");
    t.setDaemon(true);
    return t;
  });
  private final List<Task> tasks = new ArrayList<>();
  private final List<Duration> requested = new ArrayList<>();

  private static final class Task {
    final Instant due;
    final Duration delay;
    final Runnable body;
    volatile boolean cancelled;

    Task(Instant due, Duration delay, Runnable body) {
      this.due = due;
      this.delay = delay;
      this.body = body;
    }
  }

  ManualScheduler(ManualClock clock) {
    this.clock = clock;
  }

  @Override
  public synchronized Cancellable schedule(Duration delay, Runnable body) {
    Task t = new Task(clock.instant().plus(delay), delay, body);
    tasks.add(t);
    requested.add(delay);
    notifyAll();
    return () -> t.cancelled = true;
  }

  /** Every delay ever asked for, in order. */
  synchronized List<Duration> requestedDelays() {
    return List.copyOf(requested);
  }

  /** Delays of tasks neither run nor cancelled. */
  synchronized List<Duration> pendingDelays() {
    tasks.removeIf(t -> t.cancelled);
    return tasks.stream().map(t -> t.delay).toList();
  }

  /** Waits (real time, bounded) until {@code count} delays have been requested in total. */
  synchronized void awaitRequested(int count, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (requested.size() < count) {
      long left = deadline - System.nanoTime();
      if (left <= 0) throw new AssertionError("expected " + count + " scheduled tasks, got " + requested);
      wait(Math.max(1, left / 1_000_000));
    }
  }

  /** Moves the clock forward and runs, in due order, every task that became due; returns after they ran. */
  void advance(Duration d) throws Exception {
    clock.advance(d);
    List<Task> due;
    synchronized (this) {
      due = tasks.stream().filter(t -> !t.due.isAfter(clock.instant())).sorted(Comparator.comparing(t -> t.due)).toList();
      tasks.removeAll(due);
    }
    for (Task t : due) {
      if (!t.cancelled) runner.submit(t.body).get();
    }
  }

  @Override
  public void close() {
    runner.shutdownNow();
  }
}
