package io.cachestream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachestream.CacheStreamManager.EntryFilter;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The Java API: pre-caching, streams and their lifecycle, metadata, eviction, per-stream settings, bad input. */
@Timeout(60)
class CacheStreamManagerTest extends ProxyTestSupport {
  /** A lifecycle timer whose tasks run only when the test says so. */
  static final class ManualTimer implements LifecycleTimer {
    record Task(Runnable task, Duration delay, boolean[] cancelled) {}

    final List<Task> tasks = new CopyOnWriteArrayList<>();

    @Override
    public Cancellable schedule(Runnable task, Duration delay) {
      Task t = new Task(task, delay, new boolean[1]);
      tasks.add(t);
      return () -> t.cancelled[0] = true;
    }

    /** Runs the pending task scheduled last (waiting briefly for one) and returns its delay. */
    Duration runLast() throws InterruptedException {
      for (int i = 0; i < 200 && tasks.isEmpty(); i++) {
        Thread.sleep(10);
      }
      Task t = tasks.remove(tasks.size() - 1);
      assertThat(t.cancelled[0]).isFalse();
      t.task.run();
      return t.delay;
    }
  }

  @Test
  void preCacheDownloadsTheWholeFile() throws Exception {
    byte[] content = RangeOrigin.randomBytes(3 << 20, 31);
    origin.file("/whole", content);
    start(CacheConfig.builder());

    CacheMetadata meta = manager.preCache(origin.uri("/whole")).get(30, TimeUnit.SECONDS);
    assertThat(meta.complete()).isTrue();
    assertThat(meta.cachedBytes()).isEqualTo(content.length);
    origin.close();
    assertThat(get(origin.uri("/whole"), null).body()).isEqualTo(content);
  }

  @Test
  void partialPreloadStopsAtItsBudget() throws Exception {
    byte[] content = RangeOrigin.randomBytes(8 << 20, 32);
    origin.file("/feed.mp4", content);
    start(CacheConfig.builder());

    CacheMetadata meta = manager.preCache(origin.uri("/feed.mp4"), 1 << 20).get(30, TimeUnit.SECONDS);
    assertThat(meta.complete()).isFalse();
    assertThat(meta.length()).isEqualTo(content.length);
    assertThat(meta.ranges()).containsExactly(new ByteRange(0, 1 << 20));
    assertThat(origin.bodyBytesSent.get()).isEqualTo(1 << 20);
    Thread.sleep(300); // nothing else may follow
    assertThat(origin.bodyBytesSent.get()).isEqualTo(1 << 20);
  }

  @Test
  void preCacheOfAMissingResourceFailsWithTheOriginError() throws Exception {
    start(CacheConfig.builder());
    CompletableFuture<CacheMetadata> future = manager.preCache(origin.uri("/nothing-here"));
    assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .hasMessageContaining("404");
  }

  @Test
  void streamStateListenersAndPublisherSeeTheDownloadComplete() throws Exception {
    byte[] content = RangeOrigin.randomBytes(2 << 20, 33);
    origin.file("/watched", content).throttle(256 * 1024, 10);
    start(CacheConfig.builder());

    CompletableFuture<CacheState> completed = new CompletableFuture<>();
    try (CacheStream stream = manager.stream(origin.uri("/watched"))) {
      stream.states().subscribe(new Flow.Subscriber<>() {
        @Override
        public void onSubscribe(Flow.Subscription s) {
          s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(CacheState state) {
          if (state.isComplete()) {
            completed.complete(state);
          }
        }

        @Override
        public void onError(Throwable t) {
          completed.completeExceptionally(t);
        }

        @Override
        public void onComplete() {}
      });
      // The publisher delivers on its own thread, so it may see the end before the listener does: wait for both.
      CompletableFuture<CacheState> heard = new CompletableFuture<>();
      stream.addListener(state -> {
        if (state.isComplete()) {
          heard.complete(state);
        }
      });
      stream.download();
      CacheState done = completed.get(30, TimeUnit.SECONDS);
      assertThat(done.position()).isEqualTo(content.length);
      assertThat(done.sourceLength()).isEqualTo(content.length);
      assertThat(done.ranges()).containsExactly(new ByteRange(0, content.length));
      assertThat(heard.get(30, TimeUnit.SECONDS).cachedBytes()).isEqualTo(content.length);
    }
  }

  @Test
  void releasedStreamsPauseAfterPauseAfterAndDisposeAfterDisposeAfter() throws Exception {
    byte[] content = RangeOrigin.randomBytes(4 << 20, 34);
    origin.file("/life", content).throttle(64 * 1024, 50);
    ManualTimer timer = new ManualTimer();
    StreamLifecycle lifecycle = new StreamLifecycle(Duration.ofSeconds(10), Duration.ofMinutes(5));
    start(CacheConfig.builder().lifecycle(lifecycle).lifecycleTimer(timer));
    URI source = origin.uri("/life");

    CacheStream stream = manager.stream(source).download();
    while (stream.state().cachedBytes() == 0) {
      Thread.sleep(10);
    }
    stream.release();
    assertThat(manager.isActive(source)).isFalse();
    assertThat(timer.runLast()).isEqualTo(Duration.ofSeconds(10));
    long cachedAtPause = awaitStable(source);
    assertThat(cachedAtPause).isLessThan(content.length);
    assertThat(timer.runLast()).isEqualTo(Duration.ofMinutes(5).minusSeconds(10));
    assertThat(manager.metadata(source).orElseThrow().cachedBytes()).isEqualTo(cachedAtPause);
    assertThatThrownBy(stream::download).isInstanceOf(IllegalStateException.class);
  }

  private long awaitStable(URI source) throws Exception {
    long last = -1;
    for (int i = 0; i < 100; i++) {
      long now = manager.metadata(source).orElseThrow().cachedBytes();
      if (now == last) {
        return now;
      }
      last = now;
      Thread.sleep(100);
    }
    throw new AssertionError("download did not pause");
  }

  @Test
  void aHoldTakenBeforeThePauseKeepsTheStreamAndItsIdlePeriodStartsOver() throws Exception {
    origin.file("/again", RangeOrigin.randomBytes(100_000, 35));
    ManualTimer timer = new ManualTimer();
    start(CacheConfig.builder().lifecycleTimer(timer));
    URI source = origin.uri("/again");
    manager.stream(source).release();
    assertThat(timer.tasks).hasSize(1);
    CacheStream again = manager.stream(source);
    timer.runLast(); // fires while the stream is held: nothing happens
    assertThat(manager.isActive(source)).isTrue();
    assertThat(timer.tasks).isEmpty();
    again.release(); // a new idle period
    manager.stream(source).release(); // used and released again before it ends
    assertThat(timer.tasks).hasSize(1); // one timer per idle period, not one per use
    timer.runLast(); // the period was interrupted: it starts over instead of pausing
    assertThat(timer.tasks).hasSize(1);
    assertThat(timer.runLast()).isEqualTo(StreamLifecycle.DEFAULT.pauseAfter()); // now the pause
    assertThat(timer.tasks).hasSize(1); // and the dispose step is armed
  }

  @Test
  void entriesAreFilteredByActivityAndDeletedByUrlOrInactivity() throws Exception {
    origin.file("/a", RangeOrigin.randomBytes(1000, 36)).file("/b", RangeOrigin.randomBytes(2000, 37));
    start(CacheConfig.builder());
    manager.preCache(origin.uri("/a")).get();
    manager.preCache(origin.uri("/b")).get();

    try (CacheStream held = manager.stream(origin.uri("/a"))) {
      assertThat(manager.entries()).extracting(CacheMetadata::source)
          .containsExactlyInAnyOrder(origin.uri("/a"), origin.uri("/b"));
      assertThat(manager.entries(EntryFilter.ACTIVE)).extracting(CacheMetadata::source)
          .containsExactly(origin.uri("/a"));
      assertThat(manager.entries(EntryFilter.INACTIVE)).extracting(CacheMetadata::source)
          .containsExactly(origin.uri("/b"));
      assertThatThrownBy(() -> manager.delete(origin.uri("/a"))).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("in use");
      assertThat(manager.deleteInactive()).isEqualTo(1);
      assertThat(manager.metadata(origin.uri("/b"))).isEmpty();
    }
    assertThat(manager.delete(origin.uri("/a"))).isTrue();
    assertThat(manager.entries()).isEmpty();
    assertThat(manager.delete(origin.uri("/a"))).isFalse();
  }

  @Test
  void leastRecentlyUsedEntriesAreEvictedUnderTheBudgetButNeverOnesInUse() throws Exception {
    for (int i = 0; i < 5; i++) {
      origin.file("/e" + i, RangeOrigin.randomBytes(1 << 20, 40 + i));
    }
    start(CacheConfig.builder().maxCacheBytes(3L << 20));
    try (CacheStream pinned = manager.stream(origin.uri("/e0"))) {
      manager.preCache(origin.uri("/e0")).get();
      for (int i = 1; i < 5; i++) {
        manager.preCache(origin.uri("/e" + i)).get();
        Thread.sleep(5); // distinct access times
      }
      awaitTotalAtMost(3L << 20);
      List<URI> kept = manager.entries().stream().map(CacheMetadata::source).toList();
      assertThat(kept).contains(origin.uri("/e0"), origin.uri("/e4")).doesNotContain(origin.uri("/e1"));
    }
  }

  @Test
  void evictionUnderConcurrentReadersNeverBreaksAResponse() throws Exception {
    int files = 8;
    List<byte[]> contents = new ArrayList<>();
    for (int i = 0; i < files; i++) {
      contents.add(RangeOrigin.randomBytes(512 * 1024, 50 + i));
      origin.file("/c" + i, contents.get(i));
    }
    origin.throttle(256 * 1024, 5);
    start(CacheConfig.builder().maxCacheBytes(1L << 20));
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int round = 0; round < 3; round++) {
        for (int i = 0; i < files; i++) {
          int n = i;
          results.add(pool.submit(() -> Arrays.equals(get(origin.uri("/c" + n), null).body(), contents.get(n))));
        }
      }
      for (Future<Boolean> r : results) {
        assertThat(r.get(60, TimeUnit.SECONDS)).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
    awaitTotalAtMost(1L << 20);
  }

  private void awaitTotalAtMost(long budget) throws InterruptedException {
    long total = Long.MAX_VALUE;
    for (int i = 0; i < 100 && total > budget; i++) {
      total = manager.entries().stream().mapToLong(CacheMetadata::cachedBytes).sum();
      Thread.sleep(50);
    }
    assertThat(total).isLessThanOrEqualTo(budget);
  }

  @Test
  void aResourceLargerThanTheBudgetStreamsThroughWithoutBeingKept() throws Exception {
    byte[] content = RangeOrigin.randomBytes(3 << 20, 60);
    origin.file("/huge", content);
    ManualTimer timer = new ManualTimer();
    start(CacheConfig.builder().maxCacheBytes(1L << 20).lifecycleTimer(timer));

    assertThat(get(origin.uri("/huge"), null).body()).isEqualTo(content);
    timer.runLast();
    timer.runLast();
    assertThat(manager.metadata(origin.uri("/huge"))).isEmpty();
  }

  @Test
  void boundedReadAheadFetchesOnlyWhatWasAskedPlusTheReadAhead() throws Exception {
    byte[] content = RangeOrigin.randomBytes(16 << 20, 61);
    origin.file("/seek", content);
    long readAhead = 256 * 1024;
    start(CacheConfig.builder().readAhead(readAhead));

    long from = 10_000_000;
    HttpResponse<byte[]> r = get(origin.uri("/seek"), "bytes=" + from + "-" + (from + 99_999));
    assertThat(r.body()).isEqualTo(Arrays.copyOfRange(content, (int) from, (int) from + 100_000));
    Thread.sleep(300);
    assertThat(origin.bodyBytesSent.get()).isLessThanOrEqualTo(100_000 + readAhead + 64 * 1024);
    HttpResponse<byte[]> open = get(origin.uri("/seek"), "bytes=0-");
    assertThat(open.body()).isEqualTo(content); // an open-ended read still gets everything, in steps
  }

  @Test
  void perStreamSettingsApplyToThatStreamOnly() throws Exception {
    origin.file("/own", RangeOrigin.randomBytes(1000, 62)).file("/other", RangeOrigin.randomBytes(1000, 63));
    start(CacheConfig.builder().responseHeader("X-Global", "1"));
    try (CacheStream stream = manager.stream(origin.uri("/own"))) {
      stream.configure(manager.config().toBuilder().responseHeader("X-Own", "yes").build());
      assertThat(get(origin.uri("/own"), null).headers().firstValue("X-Own")).hasValue("yes");
      assertThat(get(origin.uri("/other"), null).headers().firstValue("X-Own")).isEmpty();
      assertThat(get(origin.uri("/other"), null).headers().firstValue("X-Global")).hasValue("1");
    }
  }

  @Test
  void badInputIsRejectedWithTheFieldAndTheValue() throws Exception {
    start(CacheConfig.builder());
    assertThatThrownBy(() -> manager.cacheUrl(null)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("null");
    assertThatThrownBy(() -> manager.cacheUrl(URI.create("/relative"))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("absolute").hasMessageContaining("/relative");
    assertThatThrownBy(() -> manager.stream(URI.create("ftp://h/x"))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("http or https").hasMessageContaining("ftp://h/x");
    assertThatThrownBy(() -> manager.preCache(origin.uri("/x"), -1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxBytes").hasMessageContaining("-1");
    assertThatThrownBy(() -> CacheConfig.builder().maxCacheBytes(-5L)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxCacheBytes").hasMessageContaining("-5");
    assertThatThrownBy(() -> CacheConfig.builder().readTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("readTimeout");
    assertThatThrownBy(() -> new StreamLifecycle(Duration.ofSeconds(-1), Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pauseAfter");
    assertThatThrownBy(() -> CacheConfig.builder().port(70000)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("70000");
    CacheStream released = manager.stream(origin.uri("/x"));
    released.release();
    assertThatThrownBy(() -> released.configure(manager.config())).isInstanceOf(IllegalStateException.class);
  }
}
