package io.cachestream;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import okio.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A cold client's first origin request leaves from the client's own event loop (Netty's client: no {@code Connection}
 * header; OkHttp, on download threads, sends {@code Connection: Keep-Alive}); what follows it (more requests,
 * redirects, resumes) goes on on a download thread, with the same bytes as a result. The loop keeps connections
 * alive for its next request to the same origin.
 */
@Timeout(60)
class UpstreamFromEventLoopTest extends ProxyTestSupport {
  /** HTTP/1.1 (no h2c upgrade attempt) keeps one connection to the proxy for sequential requests. */
  private final HttpClient oneConnection = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @Test
  void aColdRequestsFirstOriginRequestLeavesFromTheEventLoop() throws Exception {
    byte[] content = RangeOrigin.randomBytes(500_000, 31);
    origin.file("/loop.bin", content);
    start(CacheConfig.builder());

    assertThat(get(origin.uri("/loop.bin"), null).body()).isEqualTo(content);
    List<RecordedRequest> requests = origin.requestsFor("/loop.bin");
    assertThat(requests).hasSize(1);
    RecordedRequest first = requests.get(0);
    assertThat(first.getHeaders().get("Connection")).isNull();
    assertThat(first.getHeaders().get("User-Agent")).isEqualTo("CacheStream");
    assertThat(first.getHeaders().get("Accept-Encoding")).isEqualTo("identity");
    assertThat(first.getHeaders().get("Range")).isEqualTo("bytes=0-");
    assertThat(first.getHeaders().get("Host")).isEqualTo("127.0.0.1:" + origin.server.getPort());
    assertThat(manager.metadata(origin.uri("/loop.bin")).orElseThrow().complete()).isTrue();
  }

  @Test
  void anOriginNamedByAHostNameIsAskedFromTheLoopToo() throws Exception {
    byte[] content = RangeOrigin.randomBytes(200_000, 32);
    origin.file("/named.bin", content);
    start(CacheConfig.builder());
    URI named = URI.create("http://localhost:" + origin.server.getPort() + "/named.bin");

    assertThat(get(named, null).body()).isEqualTo(content);
    RecordedRequest first = origin.requestsFor("/named.bin").get(0);
    assertThat(first.getHeaders().get("Connection")).isNull();
    assertThat(first.getHeaders().get("Host")).isEqualTo("localhost:" + origin.server.getPort());
  }

  @Test
  void configuredRequestHeadersGoWithTheLoopsRequestToo() throws Exception {
    origin.file("/headers.bin", RangeOrigin.randomBytes(1000, 33));
    start(CacheConfig.builder().requestHeader("X-Token", "t2").requestHeader("User-Agent", "player/1"));

    assertThat(get(origin.uri("/headers.bin"), null).statusCode()).isEqualTo(200);
    RecordedRequest first = origin.requestsFor("/headers.bin").get(0);
    assertThat(first.getHeaders().get("Connection")).isNull();
    assertThat(first.getHeaders().get("X-Token")).isEqualTo("t2");
    assertThat(first.getHeaders().get("User-Agent")).isEqualTo("player/1");
  }

  @Test
  void aReadAheadDownloadGoesOnOnADownloadThreadAfterItsFirstRequest() throws Exception {
    byte[] content = RangeOrigin.randomBytes(1 << 20, 34);
    origin.file("/ahead.bin", content);
    start(CacheConfig.builder().readAhead(128L * 1024));

    assertThat(get(origin.uri("/ahead.bin"), null).body()).isEqualTo(content);
    List<RecordedRequest> requests = origin.requestsFor("/ahead.bin");
    assertThat(requests.size()).isGreaterThan(1);
    assertThat(requests.get(0).getHeaders().get("Connection")).isNull();
    assertThat(requests.get(0).getHeaders().get("Range")).isEqualTo("bytes=0-" + (128 * 1024 + 64 * 1024 - 1));
    assertThat(requests.subList(1, requests.size())).allSatisfy(r -> {
      assertThat(r.getHeaders().get("Connection")).isEqualTo("Keep-Alive");
      assertThat(r.getHeaders().get("If-Range")).isEqualTo(origin.contents.get("/ahead.bin").etag);
    });
  }

  @Test
  void theNextColdDownloadFromTheSameLoopReusesTheConnectionTheFirstLeftIdle() throws Exception {
    byte[] a = RangeOrigin.randomBytes(300_000, 37);
    byte[] b = RangeOrigin.randomBytes(200_000, 38);
    origin.file("/a.bin", a).file("/b.bin", b);
    start(CacheConfig.builder());

    assertThat(oneConnectionGet("/a.bin")).isEqualTo(a);
    assertThat(oneConnectionGet("/b.bin")).isEqualTo(b);
    RecordedRequest first = origin.requestsFor("/a.bin").get(0);
    RecordedRequest second = origin.requestsFor("/b.bin").get(0);
    assertThat(second.getHeaders().get("Connection")).isNull();
    assertThat(second.getConnectionIndex()).isEqualTo(first.getConnectionIndex());
    assertThat(second.getExchangeIndex()).isEqualTo(first.getExchangeIndex() + 1);
  }

  @Test
  void aKeptConnectionTheOriginClosedMeanwhileIsReplacedWithoutTheClientNoticing() throws Exception {
    byte[] a = RangeOrigin.randomBytes(100_000, 39);
    byte[] b = RangeOrigin.randomBytes(100_000, 40);
    origin.file("/a.bin", a).file("/b.bin", b);
    AtomicInteger asked = new AtomicInteger();
    origin.override("/b.bin", r -> asked.getAndIncrement() == 0
        ? new MockResponse.Builder().onResponseStart(new SocketEffect.CloseSocket()).build()
        : origin.serve(r, "/b.bin"));
    start(CacheConfig.builder().retryAttempts(0));

    assertThat(oneConnectionGet("/a.bin")).isEqualTo(a);
    assertThat(oneConnectionGet("/b.bin")).isEqualTo(b);
    List<RecordedRequest> requests = origin.requestsFor("/b.bin");
    assertThat(requests).hasSize(2);
    assertThat(requests.get(0).getConnectionIndex()).isEqualTo(origin.requestsFor("/a.bin").get(0).getConnectionIndex());
    assertThat(requests.get(1).getConnectionIndex()).isNotEqualTo(requests.get(0).getConnectionIndex());
    assertThat(requests.get(1).getHeaders().get("Connection")).as("still the loop's request").isNull();
  }

  @Test
  void aKeptConnectionTheOriginClosedWhileIdleIsDroppedAndTheNextDownloadConnectsAnew() throws Exception {
    byte[] a = RangeOrigin.randomBytes(100_000, 41);
    byte[] b = RangeOrigin.randomBytes(100_000, 42);
    origin.file("/a.bin", a).file("/b.bin", b);
    // Kept alive by its headers, then closed by the origin once the response is out.
    origin.override("/a.bin", r -> origin.serve(r, "/a.bin").newBuilder()
        .onResponseEnd(new SocketEffect.CloseSocket()).build());
    start(CacheConfig.builder().retryAttempts(0));

    assertThat(oneConnectionGet("/a.bin")).isEqualTo(a);
    Thread.sleep(200); // the loop sees the kept connection close
    assertThat(oneConnectionGet("/b.bin")).isEqualTo(b);
    List<RecordedRequest> requests = origin.requestsFor("/b.bin");
    assertThat(requests).as("asked once: the closed connection was not tried").hasSize(1);
    assertThat(requests.get(0).getConnectionIndex())
        .isNotEqualTo(origin.requestsFor("/a.bin").get(0).getConnectionIndex());
  }

  /**
   * A GET through the proxy on the one HTTP/1.1 connection of {@link #oneConnection}, so that every such request is
   * served by the same event loop; fails unless it is a 200.
   */
  private byte[] oneConnectionGet(String path) throws Exception {
    HttpResponse<byte[]> response = oneConnection.send(HttpRequest.newBuilder(manager.cacheUrl(origin.uri(path)))
        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(response.statusCode()).as(path).isEqualTo(200);
    return response.body();
  }

  @Test
  void anOriginErrorsBodyIsPassedOnUpToOneMebibyte() throws Exception {
    byte[] page = RangeOrigin.randomBytes(3 << 20, 35);
    origin.override("/huge-error", r -> new MockResponse.Builder().code(503)
        .addHeader("Content-Type", "text/html").body(new Buffer().write(page)).build());
    start(CacheConfig.builder());

    HttpResponse<byte[]> response = get(origin.uri("/huge-error"), null);
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("text/html");
    assertThat(response.body()).isEqualTo(Arrays.copyOf(page, 1 << 20));
    assertThat(manager.metadata(origin.uri("/huge-error"))).isEmpty();
  }

  @Test
  void aColdFarRangeIsCachedWhereItLiesAndTheRestIsFetchedOnTheSide() throws Exception {
    byte[] content = RangeOrigin.randomBytes(2 << 20, 36);
    origin.file("/far.bin", content);
    start(CacheConfig.builder());

    HttpResponse<byte[]> far = get(origin.uri("/far.bin"), "bytes=1500000-1500999");
    assertThat(far.statusCode()).isEqualTo(206);
    assertThat(far.body()).isEqualTo(Arrays.copyOfRange(content, 1_500_000, 1_501_000));
    assertThat(origin.requestsFor("/far.bin").get(0).getHeaders().get("Range")).isEqualTo("bytes=1500000-");
    assertThat(get(origin.uri("/far.bin"), null).body()).isEqualTo(content);
  }
}
