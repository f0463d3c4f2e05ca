package io.cachestream.background;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockResponseBody;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import okio.BufferedSink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class DurabilityTest extends OriginTestSupport {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @Test
  void requestIsWhollyOnDiskWhenItsIdIsReturned() throws Exception {
    try (BackgroundHttpClient client = BackgroundHttpClient.openEnqueueOnly(dir)) {
      RequestInfo info = client.post(url("/x"), RequestSpec.builder().body("payload").id("order-1").build());
      assertThat(info.id()).isEqualTo("order-1");
      assertThat(info.dir()).isEqualTo(dir.resolve("requests").resolve("order-1"));
      assertThat(Files.readString(info.dir().resolve("body"))).isEqualTo("payload");
      assertThat(Files.readString(info.dir().resolve("request.json"))).contains("\"method\" : \"POST\"");
      assertThat(Files.readString(info.dir().resolve("status.json"))).contains("\"status\" : \"in_progress\"");
      try (var entries = Files.list(dir.resolve("requests"))) {
        assertThat(entries.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(".lock", "order-1");
      }
      assertThat(client.isRunningQueue()).isFalse();
    }
  }

  @Test
  void requestsInFlightWhenTheClientStopsAreSentAgainByTheNextOne() throws Exception {
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return new MockResponse.Builder().body("late").headersDelay(20, TimeUnit.SECONDS).build();
      }
    });
    List<String> ids = new java.util.ArrayList<>();
    try (BackgroundHttpClient first = BackgroundHttpClient.open(dir)) {
      for (int i = 0; i < 3; i++) ids.add(first.get(url("/slow/" + i)).id());
      Await.until(WAIT, () -> server.getRequestCount() == 3);
    }
    try (BackgroundHttpClient reader = BackgroundHttpClient.openEnqueueOnly(dir)) {
      for (String id : ids) {
        StatusInfo s = reader.status(id).orElseThrow();
        assertThat(s.status()).isEqualTo(RequestStatus.IN_PROGRESS);
        assertThat(s.attempts()).as("an attempt cut short by shutdown does not count").isZero();
      }
    }

    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return new MockResponse.Builder().body("body of " + request.getTarget()).build();
      }
    });
    try (BackgroundHttpClient second = BackgroundHttpClient.open(dir)) {
      for (int i = 0; i < 3; i++) {
        ResponseInfo r = second.completion(ids.get(i)).get(10, TimeUnit.SECONDS);
        assertThat(Files.readString(r.bodyFile())).isEqualTo("body of /slow/" + i);
        assertThat(second.status(ids.get(i)).orElseThrow().attempts()).isEqualTo(1);
      }
    }
  }

  @Test
  void persistedBackoffSurvivesARestart() throws Exception {
    ManualClock clock = new ManualClock();
    server.enqueue(new MockResponse.Builder().code(500).build());
    String id;
    try (ManualScheduler scheduler = new ManualScheduler(clock);
        BackgroundHttpClient client = BackgroundHttpClient.open(dir, BackgroundOptions.builder().clock(clock).scheduler(scheduler).build())) {
      id = client.get(url("/x"), RequestSpec.retries(2)).id();
      scheduler.awaitRequested(1, WAIT);
      Await.until(WAIT, () -> client.status(id).orElseThrow().attempts() == 1);
      assertThat(client.status(id).orElseThrow().nextAttemptAt()).isEqualTo(clock.instant().plusSeconds(2));
    }

    clock.advance(Duration.ofMillis(1500));
    server.enqueue(new MockResponse.Builder().body("ok").build());
    try (ManualScheduler scheduler = new ManualScheduler(clock);
        BackgroundHttpClient client = BackgroundHttpClient.open(dir, BackgroundOptions.builder().clock(clock).scheduler(scheduler).build())) {
      assertThat(scheduler.pendingDelays()).as("only the rest of the backoff").containsExactly(Duration.ofMillis(500));
      assertThat(server.getRequestCount()).isEqualTo(1);
      scheduler.advance(Duration.ofMillis(500));
      assertThat(client.completion(id).get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      assertThat(client.status(id).orElseThrow().attempts()).isEqualTo(2);
    }
  }

  @Test
  void garbageStatusFileAtStartupFailsThatRequestAndTheOthersRun() throws Exception {
    String broken;
    String fine;
    try (BackgroundHttpClient writer = BackgroundHttpClient.openEnqueueOnly(dir)) {
      broken = writer.get(url("/broken")).id();
      fine = writer.get(url("/fine")).id();
    }
    Files.writeString(dir.resolve("requests").resolve(broken).resolve("status.json"), "{\"status\": tru");
    server.enqueue(new MockResponse.Builder().body("fine").build());

    try (BackgroundHttpClient client = BackgroundHttpClient.open(dir)) {
      StatusInfo failed = client.status(broken).orElseThrow();
      assertThat(failed.status()).isEqualTo(RequestStatus.FAILED);
      assertThat(failed.lastError()).startsWith("unreadable status.json");
      assertThat(failed.url()).isEqualTo(url("/broken"));
      assertThat(client.completion(fine).get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      assertThat(server.getRequestCount()).isEqualTo(1);
    }
  }

  /** A body that sends {@code cut} of {@code data}'s bytes and then breaks the connection. */
  private static MockResponseBody cutOff(byte[] data, int cut) {
    return new MockResponseBody() {
      @Override
      public long getContentLength() {
        return data.length;
      }

      @Override
      public void writeTo(BufferedSink sink) throws java.io.IOException {
        sink.write(data, 0, cut); // fewer bytes than Content-Length; the socket is then closed
        sink.flush();
      }
    };
  }

  private static byte[] content(int size) {
    byte[] data = new byte[size];
    for (int i = 0; i < size; i++) data[i] = (byte) (i * 31 + i / 251);
    return data;
  }

  @Test
  void cutOffDownloadResumesWithRangeAndIfRange() throws Exception {
    byte[] data = content(300_000);
    server.enqueue(new MockResponse.Builder().addHeader("ETag", "\"v1\"").body(cutOff(data, 120_000)).onResponseEnd(new SocketEffect.CloseSocket()).build());
    server.enqueue(
        new MockResponse.Builder()
            .code(206)
            .addHeader("ETag", "\"v1\"")
            .addHeader("Content-Range", "bytes 120000-299999/300000")
            .body(new okio.Buffer().write(data, 120_000, 180_000))
            .build());

    try (BackgroundHttpClient client = BackgroundHttpClient.open(dir, BackgroundOptions.builder().scheduler(immediate()).build())) {
      RequestInfo info = client.get(url("/big"), RequestSpec.retries(1));
      ResponseInfo r = client.completion(info.id()).get(10, TimeUnit.SECONDS);
      assertThat(server.takeRequest().getHeaders().get("Range")).isNull();
      RecordedRequest resumed = server.takeRequest();
      assertThat(resumed.getHeaders().get("Range")).isEqualTo("bytes=120000-");
      assertThat(resumed.getHeaders().get("If-Range")).isEqualTo("\"v1\"");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.header("Content-Length")).isEqualTo("300000");
      assertThat(Files.readAllBytes(r.bodyFile())).isEqualTo(data);
      assertThat(info.dir().resolve("response.body.part")).doesNotExist();
    }
  }

  @Test
  void partialContentForTheWrongRangeRestartsFromByteZero() throws Exception {
    byte[] data = content(200_000);
    server.enqueue(new MockResponse.Builder().addHeader("Last-Modified", "Wed, 01 Jan 2025 00:00:00 GMT").body(cutOff(data, 50_000)).onResponseEnd(new SocketEffect.CloseSocket()).build());
    server.enqueue(new MockResponse.Builder().code(206).addHeader("Content-Range", "bytes 0-99/200000").body("x".repeat(100)).build());
    server.enqueue(new MockResponse.Builder().body(new okio.Buffer().write(data)).build());

    try (BackgroundHttpClient client = BackgroundHttpClient.open(dir, BackgroundOptions.builder().scheduler(immediate()).build())) {
      RequestInfo info = client.get(url("/moving"), RequestSpec.retries(1));
      ResponseInfo r = client.completion(info.id()).get(10, TimeUnit.SECONDS);
      server.takeRequest();
      assertThat(server.takeRequest().getHeaders().get("If-Range")).isEqualTo("Wed, 01 Jan 2025 00:00:00 GMT");
      assertThat(server.takeRequest().getHeaders().get("Range")).as("restarted without a range").isNull();
      assertThat(Files.readAllBytes(r.bodyFile())).isEqualTo(data);
      assertThat(client.status(info.id()).orElseThrow().attempts()).isEqualTo(2);
    }
  }

  @Test
  void responseBodyIsNotMixedWhenAnErrorAnswerIsRetried() throws Exception {
    server.enqueue(new MockResponse.Builder().code(500).body("error page").build());
    server.enqueue(new MockResponse.Builder().body("real").build());
    try (BackgroundHttpClient client = BackgroundHttpClient.open(dir, BackgroundOptions.builder().scheduler(immediate()).build())) {
      RequestInfo info = client.get(url("/x"), RequestSpec.retries(1));
      ResponseInfo r = client.completion(info.id()).get(10, TimeUnit.SECONDS);
      assertThat(Files.readString(r.bodyFile())).isEqualTo("real");
      assertThat(r.bodyLength()).isEqualTo(4);
    }
  }

  /** Runs timers at once (on a separate thread): for tests about what is sent, not when. */
  static Scheduler immediate() {
    return (delay, task) -> {
      Thread t = new Thread(task, "immediate-scheduler");
      t.setDaemon(true);
      t.start();
      return () -> {};
    };
  }
}
