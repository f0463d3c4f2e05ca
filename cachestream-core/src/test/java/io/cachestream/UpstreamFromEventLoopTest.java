package io.cachestream;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import okio.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A cold client's first origin request leaves from the client's own event loop, on a connection of its own; what
 * follows it (more requests, redirects, resumes) goes on on a download thread, with the same bytes as a result.
 */
@Timeout(60)
class UpstreamFromEventLoopTest extends ProxyTestSupport {
  @Test
  void aColdRequestsFirstOriginRequestLeavesFromTheEventLoopOnAConnectionOfItsOwn() throws Exception {
    byte[] content = RangeOrigin.randomBytes(500_000, 31);
    origin.file("/loop.bin", content);
    start(CacheConfig.builder());

    assertThat(get(origin.uri("/loop.bin"), null).body()).isEqualTo(content);
    List<RecordedRequest> requests = origin.requestsFor("/loop.bin");
    assertThat(requests).hasSize(1);
    RecordedRequest first = requests.get(0);
    assertThat(first.getHeaders().get("Connection")).isEqualTo("close");
    assertThat(first.getHeaders().get("User-Agent")).isEqualTo("CacheStream");
    assertThat(first.getHeaders().get("Accept-Encoding")).isEqualTo("identity");
    assertThat(first.getHeaders().get("Range")).isEqualTo("bytes=0-");
    assertThat(first.getHeaders().get("Host")).isEqualTo("127.0.0.1:" + origin.server.getPort());
    assertThat(manager.metadata(origin.uri("/loop.bin")).orElseThrow().complete()).isTrue();
  }

  @Test
  void anOriginNamedByAHostNameIsAskedByTheBlockingClientWithTheSameHeaders() throws Exception {
    byte[] content = RangeOrigin.randomBytes(200_000, 32);
    origin.file("/named.bin", content);
    start(CacheConfig.builder().requestHeader("X-Token", "t1"));
    URI named = URI.create("http://localhost:" + origin.server.getPort() + "/named.bin");

    assertThat(get(named, null).body()).isEqualTo(content);
    RecordedRequest first = origin.requestsFor("/named.bin").get(0);
    assertThat(first.getHeaders().get("Connection")).isNotEqualTo("close");
    assertThat(first.getHeaders().get("User-Agent")).isEqualTo("CacheStream");
    assertThat(first.getHeaders().get("X-Token")).isEqualTo("t1");
  }

  @Test
  void configuredRequestHeadersGoWithTheLoopsRequestToo() throws Exception {
    origin.file("/headers.bin", RangeOrigin.randomBytes(1000, 33));
    start(CacheConfig.builder().requestHeader("X-Token", "t2").requestHeader("User-Agent", "player/1"));

    assertThat(get(origin.uri("/headers.bin"), null).statusCode()).isEqualTo(200);
    RecordedRequest first = origin.requestsFor("/headers.bin").get(0);
    assertThat(first.getHeaders().get("Connection")).isEqualTo("close");
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
    assertThat(requests.get(0).getHeaders().get("Connection")).isEqualTo("close");
    assertThat(requests.get(0).getHeaders().get("Range")).isEqualTo("bytes=0-" + (128 * 1024 + 64 * 1024 - 1));
    assertThat(requests.subList(1, requests.size())).allSatisfy(r -> {
      assertThat(r.getHeaders().get("Connection")).isNotEqualTo("close");
      assertThat(r.getHeaders().get("If-Range")).isEqualTo(origin.contents.get("/ahead.bin").etag);
    });
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
