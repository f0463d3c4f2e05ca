package io.cachestream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many clients at once, coming and going, over throttled origins that sometimes cut a body short, with downloads
 * paused the moment their last client leaves, resources disposed soon after and half the files over the budget: every download's first request runs
 * on an event loop and is cancelled, resumed and replaced while others stream. Every answer that completes has exactly
 * the origin's bytes, no client waits forever, and the cache keeps nothing it should not.
 */
@Timeout(180)
class DownloadChurnTest extends ProxyTestSupport {
  private static final int FILES = 6;
  private static final int SIZE = 1 << 20;

  @Test
  void clientsComingAndGoingWhileDownloadsPauseResumeAndFailNeverGetWrongBytes() throws Exception {
    List<byte[]> contents = new ArrayList<>();
    for (int i = 0; i < FILES; i++) {
      contents.add(RangeOrigin.randomBytes(SIZE, 70 + i));
      origin.file("/churn" + i, contents.get(i));
    }
    origin.throttle(128 * 1024, 10).fault("/churn0", 300_000, 0).fault("/churn3", 100_000, 0)
        .fault("/churn3", 700_000, 0);
    // Half the files fit the budget: eviction runs all along, beside the downloads.
    start(CacheConfig.builder().maxCacheBytes((long) FILES * SIZE / 2)
        .lifecycle(new StreamLifecycle(Duration.ZERO, Duration.ofMillis(100))));
    ExecutorService clients = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int task = 0; task < 60; task++) {
        int file = task % FILES;
        int kind = task % 3;
        long seed = task;
        done.add(clients.submit(() -> {
          client(kind, origin.uri("/churn" + file), contents.get(file), new Random(seed));
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      clients.shutdownNow();
    }
    for (int i = 0; i < FILES; i++) {
      URI source = origin.uri("/churn" + i);
      assertThat(get(source, null).body()).as("file %d after the churn", i).isEqualTo(contents.get(i));
      manager.metadata(source).ifPresent(meta -> assertThat(meta.cachedBytes()).isLessThanOrEqualTo(SIZE));
    }
  }

  /** A whole GET, a ranged GET or a client that leaves mid-body; the first two check every byte. */
  private void client(int kind, URI source, byte[] content, Random random) throws Exception {
    switch (kind) {
      case 0 -> {
        HttpResponse<byte[]> whole = get(source, null);
        assertThat(whole.statusCode()).isEqualTo(200);
        assertThat(whole.body()).isEqualTo(content);
      }
      case 1 -> {
        int from = random.nextInt(SIZE - 1);
        int to = Math.min(SIZE - 1, from + random.nextInt(300_000));
        HttpResponse<byte[]> range = get(source, "bytes=" + from + "-" + to);
        assertThat(range.statusCode()).isEqualTo(206);
        assertThat(range.body()).isEqualTo(Arrays.copyOfRange(content, from, to + 1));
      }
      default -> {
        URI cacheUrl = manager.cacheUrl(source);
        try (Socket quitter = new Socket("127.0.0.1", cacheUrl.getPort())) {
          quitter.setSoTimeout(30_000);
          quitter.getOutputStream().write(("GET " + cacheUrl.getRawPath() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
          InputStream in = quitter.getInputStream();
          in.readNBytes(1000 + random.nextInt(400_000));
        }
      }
    }
  }
}
