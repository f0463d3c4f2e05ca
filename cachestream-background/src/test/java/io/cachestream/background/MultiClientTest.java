package io.cachestream.background;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Several clients on one directory, standing in for several processes (the lock is per JVM and per process). */
@Timeout(30)
class MultiClientTest extends OriginTestSupport {
  private static final Duration WAIT = Duration.ofSeconds(10);

  private static BackgroundOptions fastRescan() {
    return BackgroundOptions.builder().rescanInterval(Duration.ofMillis(100)).build();
  }

  @Test
  void onlyOneClientRunsTheQueueAndRequestsWrittenByOthersRun() throws Exception {
    server.enqueue(new MockResponse.Builder().body("from queue").build());
    try (BackgroundHttpClient runner = BackgroundHttpClient.open(dir);
        BackgroundHttpClient other = BackgroundHttpClient.open(dir);
        BackgroundHttpClient writer = BackgroundHttpClient.openEnqueueOnly(dir)) {
      assertThat(runner.isRunningQueue()).isTrue();
      assertThat(other.isRunningQueue()).isFalse();
      assertThat(writer.isRunningQueue()).isFalse();
      assertThat(BackgroundHttpClient.isQueueRunning(dir)).isTrue();

      RequestInfo info = writer.get(Loopback.url(server, "/x"));
      ResponseInfo r = writer.completion(info.id()).get(10, TimeUnit.SECONDS);
      assertThat(r.statusCode()).isEqualTo(200);
    }
    assertThat(BackgroundHttpClient.isQueueRunning(dir)).isFalse();
  }

  @Test
  void waitingClientTakesOverTheQueueWhenTheHolderCloses() throws Exception {
    BackgroundHttpClient holder = BackgroundHttpClient.open(dir);
    try (BackgroundHttpClient standby = BackgroundHttpClient.open(dir, fastRescan())) {
      assertThat(standby.isRunningQueue()).isFalse();
      holder.close();
      Await.until(WAIT, standby::isRunningQueue);
      server.enqueue(new MockResponse.Builder().body("ok").build());
      RequestInfo info = standby.get(Loopback.url(server, "/x"));
      assertThat(standby.completion(info.id()).get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void cancelFromAnotherClientStopsARequestWaitingForRetry() throws Exception {
    ManualClock clock = new ManualClock();
    server.enqueue(new MockResponse.Builder().code(500).build());
    server.enqueue(new MockResponse.Builder().body("too late").build());
    try (ManualScheduler scheduler = new ManualScheduler(clock);
        BackgroundHttpClient runner =
            BackgroundHttpClient.open(dir, BackgroundOptions.builder().clock(clock).scheduler(scheduler).rescanInterval(Duration.ofMillis(100)).build());
        BackgroundHttpClient other = BackgroundHttpClient.openEnqueueOnly(dir)) {
      RequestInfo info = runner.get(Loopback.url(server, "/x"), RequestSpec.retries(3));
      scheduler.awaitRequested(1, WAIT);
      Await.until(WAIT, () -> runner.status(info.id()).orElseThrow().attempts() == 1);

      assertThat(other.cancel(info.id())).isTrue();
      assertThat(runner.status(info.id()).orElseThrow().status()).isEqualTo(RequestStatus.CANCELLED);
      Await.until(WAIT, () -> scheduler.pendingDelays().isEmpty(), () -> "the runner to drop the retry timer");
      scheduler.advance(Duration.ofMinutes(10));
      assertThat(server.getRequestCount()).isEqualTo(1);
      assertThat(runner.status(info.id()).orElseThrow().status()).isEqualTo(RequestStatus.CANCELLED);
    }
  }
}
