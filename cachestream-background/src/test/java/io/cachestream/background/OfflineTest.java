package io.cachestream.background;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class OfflineTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir Path dir;

  @Test
  void unreachableOriginSpendsNoAttemptsAndRequestsRunOnceItIsUp() throws Exception {
    ManualClock clock = new ManualClock();
    int port = Loopback.freePort();
    try (ManualScheduler scheduler = new ManualScheduler(clock);
        BackgroundHttpClient client =
            BackgroundHttpClient.open(
                dir,
                BackgroundOptions.builder()
                    .clock(clock)
                    .scheduler(scheduler)
                    .offlineProbeInterval(Duration.ofSeconds(3))
                    .build());
        MockWebServer server = new MockWebServer()) {
      RequestInfo first = client.get(Loopback.url(port, "/a"));
      RequestInfo second = client.post(Loopback.url(port, "/b"), RequestSpec.builder().body("b").build());

      // Several probe rounds against a refusing port: still in progress, no attempt spent, retries=0 notwithstanding.
      for (int round = 1; round <= 3; round++) {
        scheduler.awaitRequested(round, WAIT);
        Await.until(WAIT, () -> client.status(first.id()).orElseThrow().lastError() != null);
        assertThat(scheduler.pendingDelays()).as("one probe timer per host").containsExactly(Duration.ofSeconds(3));
        for (RequestInfo info : new RequestInfo[] {first, second}) {
          StatusInfo s = client.status(info.id()).orElseThrow();
          assertThat(s.status()).isEqualTo(RequestStatus.IN_PROGRESS);
          assertThat(s.attempts()).isZero();
        }
        assertThat(client.status(first.id()).orElseThrow().lastError()).startsWith("waiting for network");
        scheduler.advance(Duration.ofSeconds(3));
      }

      Loopback.start(server, port);
      server.enqueue(new MockResponse.Builder().body("a").build());
      server.enqueue(new MockResponse.Builder().body("b").build());
      scheduler.advance(Duration.ofSeconds(3));

      assertThat(client.completion(first.id()).get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      assertThat(client.completion(second.id()).get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      assertThat(client.status(first.id()).orElseThrow().attempts()).isEqualTo(1);
      assertThat(client.status(second.id()).orElseThrow().attempts()).isEqualTo(1);
    }
  }

  @Test
  void unknownHostWaitsForTheNetworkToo() throws Exception {
    ManualClock clock = new ManualClock();
    try (ManualScheduler scheduler = new ManualScheduler(clock);
        BackgroundHttpClient client =
            BackgroundHttpClient.open(dir, BackgroundOptions.builder().clock(clock).scheduler(scheduler).build())) {
      RequestInfo info = client.get("http://no-such-host.invalid/x");
      Await.until(WAIT, () -> client.status(info.id()).orElseThrow().lastError() != null);
      StatusInfo s = client.status(info.id()).orElseThrow();
      assertThat(s.attempts()).isZero();
      assertThat(s.status()).isEqualTo(RequestStatus.IN_PROGRESS);
      assertThat(s.lastError()).contains("UnknownHost");
    }
  }
}
