package io.cachestream.background;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class ScaleTest {
  private static final int REQUESTS = 10_000;
  private static final int PER_HOST = 3;
  private static final int GLOBAL = 5;

  @TempDir Path dir;

  /** Counts calls in progress at this server and overall, remembering the peaks. */
  private static final class CountingDispatcher extends Dispatcher {
    static final AtomicInteger globalNow = new AtomicInteger();
    static final AtomicInteger globalPeak = new AtomicInteger();
    final AtomicInteger now = new AtomicInteger();
    final AtomicInteger peak = new AtomicInteger();
    final AtomicInteger served = new AtomicInteger();

    @Override
    public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
      peak.accumulateAndGet(now.incrementAndGet(), Math::max);
      globalPeak.accumulateAndGet(globalNow.incrementAndGet(), Math::max);
      try {
        Thread.sleep(1); // long enough for calls to overlap if the limits let them
        served.incrementAndGet();
        return new MockResponse.Builder().body(request.getTarget()).build();
      } finally {
        now.decrementAndGet();
        globalNow.decrementAndGet();
      }
    }
  }

  @Test
  void tenThousandRequestsAllCompleteWithinGlobalAndPerHostLimits() throws Exception {
    CountingDispatcher a = new CountingDispatcher();
    CountingDispatcher b = new CountingDispatcher();
    try (MockWebServer serverA = new MockWebServer();
        MockWebServer serverB = new MockWebServer();
        BackgroundHttpClient client =
            BackgroundHttpClient.open(
                dir, BackgroundOptions.builder().maxConcurrency(GLOBAL).maxConcurrencyPerHost(PER_HOST).build())) {
      serverA.setDispatcher(a);
      serverB.setDispatcher(b);
      Loopback.start(serverA);
      Loopback.start(serverB);

      long start = System.nanoTime();
      ExecutorService callers = Executors.newFixedThreadPool(4);
      List<Future<String>> ids = new ArrayList<>();
      for (int i = 0; i < REQUESTS; i++) {
        MockWebServer target = i % 2 == 0 ? serverA : serverB;
        String url = Loopback.url(target, "/item/" + i);
        ids.add(callers.submit(() -> client.get(url).id()));
      }
      List<CompletableFuture<ResponseInfo>> done = new ArrayList<>();
      for (Future<String> id : ids) done.add(client.completion(id.get()));
      long enqueueMillis = (System.nanoTime() - start) / 1_000_000;
      callers.shutdown();

      CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(100, TimeUnit.SECONDS);
      long totalMillis = (System.nanoTime() - start) / 1_000_000;
      System.out.printf("enqueued %d requests in %d ms, all complete after %d ms%n", REQUESTS, enqueueMillis, totalMillis);

      assertThat(a.served.get() + b.served.get()).isEqualTo(REQUESTS);
      assertThat(a.peak.get()).isBetween(2, PER_HOST);
      assertThat(b.peak.get()).isBetween(2, PER_HOST);
      assertThat(CountingDispatcher.globalPeak.get()).isLessThanOrEqualTo(GLOBAL);
      assertThat(client.list(s -> s.status() != RequestStatus.COMPLETED)).isEmpty();
    }
  }
}
