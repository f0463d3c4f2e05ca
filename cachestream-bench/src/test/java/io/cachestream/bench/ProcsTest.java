package io.cachestream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ProcsTest {
  private static volatile long sink;

  @Test
  void cpuBetweenTwoReadingsCountsWhatAThreadRanInBetween() throws Exception {
    long pid = ProcessHandle.current().pid();
    CountDownLatch go = new CountDownLatch(1);
    CountDownLatch spun = new CountDownLatch(1);
    CountDownLatch end = new CountDownLatch(1);
    Thread spinner = new Thread(() -> {
      try {
        go.await();
        spin(50_000_000L);
        spun.countDown();
        end.await(); // still alive at the second reading
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "spinner");
    spinner.start();
    try {
      Map<Long, Long> before = Procs.threadCpuNanos(pid);
      go.countDown();
      spun.await();
      long nanos = Procs.cpuNanosBetween(before, Procs.threadCpuNanos(pid));
      assertThat(nanos).isGreaterThanOrEqualTo(45_000_000L);
    } finally {
      end.countDown();
      spinner.join();
    }
  }

  @Test
  void busiestThreadsNamesTheThreadThatRanAndLeavesOutIdleOnes() throws Exception {
    long pid = ProcessHandle.current().pid();
    CountDownLatch spun = new CountDownLatch(1);
    CountDownLatch end = new CountDownLatch(1);
    Map<Long, Long> before = Procs.threadCpuNanos(pid);
    Thread spinner = new Thread(() -> {
      spin(30_000_000L);
      spun.countDown();
      try {
        end.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "busy-spinner");
    Thread idler = new Thread(() -> {
      try {
        end.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "idle-waiter");
    idler.start();
    spinner.start();
    try {
      spun.await();
      String busiest = Procs.busiestThreads(before, Procs.threadCpuNanos(pid), 20_000_000L);
      assertThat(busiest).matches("(.*, )?busy-spinner [0-9]+\\.[0-9](, .*)?").doesNotContain("idle-waiter");
    } finally {
      end.countDown();
      spinner.join();
      idler.join();
    }
  }

  @Test
  void aThreadThatEndedBetweenTheReadingsIsNotCountedNegative() {
    Map<Long, Long> before = Map.of(1L, 500L, 2L, 900L);
    Map<Long, Long> now = Map.of(1L, 700L, 3L, 50L); // 2 ended, 3 started
    assertThat(Procs.cpuNanosBetween(before, now)).isEqualTo(200L + 50L);
  }

  @Test
  void aProcessThatIsGoneHasNoThreads() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    assertThat(Procs.threadCpuNanos(p.pid())).isEmpty();
  }

  /** Runs until this thread has used {@code nanos} of CPU, however long the scheduler makes that take. */
  private static void spin(long nanos) {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long end = threads.getCurrentThreadCpuTime() + nanos;
    long x = 0;
    while (threads.getCurrentThreadCpuTime() < end) {
      x += System.nanoTime() % 7;
    }
    sink = x;
  }
}
