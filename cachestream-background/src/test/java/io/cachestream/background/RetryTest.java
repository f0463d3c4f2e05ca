package io.cachestream.background;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class RetryTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir Path dir;
  private final MockWebServer server = new MockWebServer();
  private final ManualClock clock = new ManualClock();
  private final ManualScheduler scheduler = new ManualScheduler(clock);
  private BackgroundHttpClient client;

  @BeforeEach
  void setUp() throws Exception {
    Loopback.start(server);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (client != null) client.close();
    scheduler.close();
    server.close();
  }

  private BackgroundHttpClient open(RetryPolicy policy) throws Exception {
    client =
        BackgroundHttpClient.open(
            dir, BackgroundOptions.builder().clock(clock).scheduler(scheduler).retryPolicy(policy).build());
    return client;
  }

  private String url(String path) {
    return Loopback.url(server, path);
  }

  private StatusInfo status(String id) {
    return client.status(id).orElseThrow();
  }

  private static MockResponse code(int code) {
    return new MockResponse.Builder().code(code).body("answer " + code).build();
  }

  @Test
  void originFailingThreeTimesThenSucceedingCompletesAfterFourAttemptsWithDoublingDelays() throws Exception {
    open(RetryPolicy.ALL_ERRORS);
    for (int i = 0; i < 3; i++) server.enqueue(code(500));
    server.enqueue(code(200));

    RequestInfo info = client.get(url("/flaky"), RequestSpec.retries(3));
    for (int failure = 1; failure <= 3; failure++) {
      scheduler.awaitRequested(failure, WAIT);
      Duration expected = Duration.ofSeconds(1L << failure);
      assertThat(scheduler.pendingDelays()).containsExactly(expected);
      StatusInfo waiting = status(info.id());
      assertThat(waiting.status()).isEqualTo(RequestStatus.IN_PROGRESS);
      assertThat(waiting.attempts()).isEqualTo(failure);
      assertThat(waiting.nextAttemptAt()).isEqualTo(clock.instant().plus(expected));
      assertThat(waiting.lastError()).isEqualTo("HTTP 500 Server Error");
      assertThat(server.getRequestCount()).isEqualTo(failure);
      scheduler.advance(expected.minusMillis(1));
      assertThat(server.getRequestCount()).as("no attempt before the delay is over").isEqualTo(failure);
      scheduler.advance(Duration.ofMillis(1));
    }

    ResponseInfo response = client.completion(info.id()).get(10, TimeUnit.SECONDS);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(Files.readString(response.bodyFile())).isEqualTo("answer 200");
    assertThat(status(info.id()).attempts()).isEqualTo(4);
    assertThat(status(info.id()).status()).isEqualTo(RequestStatus.COMPLETED);
    assertThat(server.getRequestCount()).isEqualTo(4);
    assertThat(scheduler.requestedDelays()).containsExactly(Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ofSeconds(8));
  }

  @Test
  void backoffDoublesFromTwoSecondsUpTo512() {
    List<Long> seconds = new java.util.ArrayList<>();
    for (int failure = 1; failure <= 11; failure++) seconds.add(Backoff.delay(failure, false).getSeconds());
    assertThat(seconds).containsExactly(2L, 4L, 8L, 16L, 32L, 64L, 128L, 256L, 512L, 512L, 512L);
    for (int i = 0; i < 100; i++) {
      assertThat(Backoff.delay(3, true)).isBetween(Duration.ofSeconds(4), Duration.ofSeconds(8));
    }
  }

  @Test
  void retryAfterSecondsReplacesTheBackoffDelay() throws Exception {
    open(RetryPolicy.ALL_ERRORS);
    server.enqueue(new MockResponse.Builder().code(503).addHeader("Retry-After", "7").build());
    server.enqueue(code(200));

    RequestInfo info = client.get(url("/busy"), RequestSpec.retries(1));
    scheduler.awaitRequested(1, WAIT);
    assertThat(scheduler.pendingDelays()).containsExactly(Duration.ofSeconds(7));
    scheduler.advance(Duration.ofSeconds(7));
    assertThat(client.completion(info.id()).get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
  }

  @Test
  void retryAfterIsCappedAt512Seconds() throws Exception {
    open(RetryPolicy.TRANSIENT);
    server.enqueue(new MockResponse.Builder().code(429).addHeader("Retry-After", "86400").build());
    client.get(url("/slow-down"), RequestSpec.retries(1));
    scheduler.awaitRequested(1, WAIT);
    assertThat(scheduler.pendingDelays()).containsExactly(Duration.ofSeconds(512));
  }

  @Test
  void exhaustedRetriesFailTheRequestAndKeepTheLastResponse() throws Exception {
    open(RetryPolicy.ALL_ERRORS);
    server.enqueue(code(500));
    server.enqueue(code(502));

    RequestInfo info = client.get(url("/down"), RequestSpec.retries(1));
    scheduler.awaitRequested(1, WAIT);
    assertThat(client.response(info.id())).as("no response while in progress").isEmpty();
    scheduler.advance(Duration.ofSeconds(2));

    assertThatThrownBy(() -> client.completion(info.id()).get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOfSatisfying(RequestFailedException.class, e -> {
          assertThat(e.status().attempts()).isEqualTo(2);
          assertThat(e.response()).map(ResponseInfo::statusCode).contains(502);
        });
    StatusInfo failed = status(info.id());
    assertThat(failed.status()).isEqualTo(RequestStatus.FAILED);
    assertThat(failed.lastError()).startsWith("HTTP 502");
    assertThat(failed.nextAttemptAt()).isNull();
    assertThat(Files.readString(client.response(info.id()).orElseThrow().bodyFile())).isEqualTo("answer 502");
  }

  @Test
  void defaultPolicyRetriesEveryStatusFrom400LikeTheSeed() throws Exception {
    open(RetryPolicy.ALL_ERRORS);
    server.enqueue(code(404));
    server.enqueue(code(200));
    RequestInfo info = client.get(url("/later"), RequestSpec.retries(1));
    scheduler.awaitRequested(1, WAIT);
    scheduler.advance(Duration.ofSeconds(2));
    assertThat(client.completion(info.id()).get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
  }

  @Test
  void transientPolicyFailsANotFoundAtOnce() throws Exception {
    open(RetryPolicy.TRANSIENT);
    server.enqueue(code(404));
    RequestInfo info = client.get(url("/missing"), RequestSpec.retries(5));
    Await.until(WAIT, () -> status(info.id()).isFinal());
    assertThat(status(info.id()).status()).isEqualTo(RequestStatus.FAILED);
    assertThat(status(info.id()).attempts()).isEqualTo(1);
    assertThat(scheduler.requestedDelays()).isEmpty();
    assertThat(client.response(info.id()).orElseThrow().statusCode()).isEqualTo(404);
    assertThat(RetryPolicy.TRANSIENT.retries(408)).isTrue();
    assertThat(RetryPolicy.TRANSIENT.retries(429)).isTrue();
    assertThat(RetryPolicy.TRANSIENT.retries(500)).isTrue();
    assertThat(RetryPolicy.TRANSIENT.retries(403)).isFalse();
  }

  @Test
  void timeoutCountsAsAnAttemptAndIsRetried() throws Exception {
    open(RetryPolicy.TRANSIENT);
    server.enqueue(new MockResponse.Builder().body("late").headersDelay(2, TimeUnit.SECONDS).build());
    server.enqueue(code(200));
    RequestInfo info = client.get(url("/timeout"), RequestSpec.builder().retries(1).timeout(Duration.ofMillis(200)).build());
    scheduler.awaitRequested(1, WAIT);
    assertThat(status(info.id()).attempts()).isEqualTo(1);
    assertThat(status(info.id()).lastError()).containsIgnoringCase("timeout");
    scheduler.advance(Duration.ofSeconds(2));
    assertThat(client.completion(info.id()).get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
  }

  @Test
  void cancelDuringBackoffWaitIsNeverRetried() throws Exception {
    open(RetryPolicy.ALL_ERRORS);
    server.enqueue(code(500));
    server.enqueue(code(200));
    RequestInfo info = client.get(url("/cancel-me"), RequestSpec.retries(5));
    scheduler.awaitRequested(1, WAIT);
    var completion = client.completion(info.id());

    assertThat(client.cancel(info.id())).isTrue();
    assertThat(status(info.id()).status()).isEqualTo(RequestStatus.CANCELLED);
    assertThat(scheduler.pendingDelays()).isEmpty();
    scheduler.advance(Duration.ofHours(1));

    assertThatThrownBy(() -> completion.get(10, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
    assertThat(server.getRequestCount()).isEqualTo(1);
    assertThat(status(info.id()).status()).isEqualTo(RequestStatus.CANCELLED);
    assertThat(client.cancel(info.id())).as("already final").isFalse();
  }

  @Test
  void cancelAbortsARunningCall() throws Exception {
    open(RetryPolicy.ALL_ERRORS);
    server.enqueue(new MockResponse.Builder().body("never").headersDelay(20, TimeUnit.SECONDS).build());
    RequestInfo info = client.get(url("/hang"), RequestSpec.retries(3));
    server.takeRequest(10, TimeUnit.SECONDS);

    assertThat(client.cancel(info.id())).isTrue();
    Await.until(WAIT, () -> status(info.id()).status() == RequestStatus.CANCELLED);
    Thread.sleep(100); // give a wrongly retried call a chance to show up
    assertThat(scheduler.requestedDelays()).isEmpty();
    assertThat(status(info.id()).status()).isEqualTo(RequestStatus.CANCELLED);
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void postCarriesTheSameIdempotencyKeyOnEveryAttempt() throws Exception {
    open(RetryPolicy.ALL_ERRORS);
    server.enqueue(code(500));
    server.enqueue(code(201));
    RequestInfo info = client.post(url("/orders"), RequestSpec.builder().body("{\"n\":1}").contentType("application/json").retries(1).build());
    scheduler.awaitRequested(1, WAIT);
    scheduler.advance(Duration.ofSeconds(2));
    client.completion(info.id()).get(10, TimeUnit.SECONDS);

    RecordedRequest first = server.takeRequest();
    RecordedRequest second = server.takeRequest();
    assertThat(first.getHeaders().get("Idempotency-Key")).isNotBlank().isEqualTo(second.getHeaders().get("Idempotency-Key"));
    assertThat(second.getBody().utf8()).isEqualTo("{\"n\":1}");
    assertThat(second.getHeaders().get("Content-Type")).startsWith("application/json");
  }

  @Test
  void idempotencyKeyIsOnlyForNonIdempotentMethodsAndCanBeTurnedOff() throws Exception {
    open(RetryPolicy.ALL_ERRORS);
    server.enqueue(code(200));
    client.completion(client.put(url("/put"), RequestSpec.builder().body("x").build()).id()).get(10, TimeUnit.SECONDS);
    assertThat(server.takeRequest().getHeaders().get("Idempotency-Key")).isNull();
    client.close();

    client = BackgroundHttpClient.open(dir, BackgroundOptions.builder().clock(clock).scheduler(scheduler).idempotencyKeys(false).build());
    server.enqueue(code(200));
    client.completion(client.post(url("/post"), RequestSpec.builder().body("x").build()).id()).get(10, TimeUnit.SECONDS);
    assertThat(server.takeRequest().getHeaders().get("Idempotency-Key")).isNull();
  }

  @Test
  void headersAndQueryParametersAreSent() throws Exception {
    open(RetryPolicy.ALL_ERRORS);
    server.enqueue(code(200));
    RequestSpec spec = RequestSpec.builder().addHeader("X-Trace", "abc").addQuery("q", "a b").addQuery("q", "c").build();
    RequestInfo info = client.get(url("/search?lang=en"), spec);
    client.completion(info.id()).get(10, TimeUnit.SECONDS);
    RecordedRequest recorded = server.takeRequest();
    assertThat(recorded.getHeaders().get("X-Trace")).isEqualTo("abc");
    assertThat(recorded.getTarget()).isEqualTo("/search?lang=en&q=a%20b&q=c");
    assertThat(status(info.id()).url()).endsWith("/search?lang=en&q=a%20b&q=c");
  }
}
