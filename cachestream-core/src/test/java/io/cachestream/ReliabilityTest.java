package io.cachestream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What happens when the network, the origin or the resource misbehaves: correct bytes or a clean error. */
@Timeout(60)
class ReliabilityTest extends ProxyTestSupport {
  private List<RecordedRequest> gets(String path) {
    return origin.requestsFor(path).stream().filter(r -> r.getMethod().equals("GET")).toList();
  }

  @Test
  void aDroppedConnectionResumesWithRangeAndIfRangeWithoutGapOrDuplicate() throws Exception {
    byte[] content = RangeOrigin.randomBytes(3 << 20, 11);
    origin.file("/drop", content).fault("/drop", 1_000_000, 0);
    start(CacheConfig.builder());

    assertThat(get(origin.uri("/drop"), null).body()).isEqualTo(content);
    List<RecordedRequest> requests = gets("/drop");
    assertThat(requests).hasSize(2);
    String resumeRange = requests.get(1).getHeaders().get("Range");
    assertThat(Long.parseLong(resumeRange.replaceAll("bytes=(\\d+)-", "$1"))).isBetween(900_000L, 1_000_000L);
    assertThat(requests.get(1).getHeaders().get("If-Range")).isEqualTo(origin.contents.get("/drop").etag);
    assertThat(origin.bodyBytesSent.get()).isLessThanOrEqualTo(content.length + 100_000L);
  }

  @Test
  void afterTheAttemptsAreSpentTheBodyIsCutShortNeverPadded() throws Exception {
    byte[] content = RangeOrigin.randomBytes(1 << 20, 12);
    origin.file("/dying", content).fault("/dying", 100_000, 0).fault("/dying", 0, 0).fault("/dying", 0, 0);
    start(CacheConfig.builder().retryAttempts(2));

    assertThatThrownBy(() -> get(origin.uri("/dying"), null)).isInstanceOf(IOException.class);
    assertThat(gets("/dying")).hasSize(3);
    CacheMetadata meta = manager.metadata(origin.uri("/dying")).orElseThrow();
    assertThat(meta.complete()).isFalse();
    assertThat(meta.cachedBytes()).isEqualTo(100_000);
    // The next client gets the whole file: the cached part from disk, the rest from a resumed download.
    assertThat(get(origin.uri("/dying"), null).body()).isEqualTo(content);
  }

  @Test
  void aStalledOriginIsResumedAfterTheReadTimeout() throws Exception {
    byte[] content = RangeOrigin.randomBytes(1 << 20, 13);
    origin.file("/stall", content).fault("/stall", 500_000, 2_000);
    start(CacheConfig.builder().readTimeout(Duration.ofMillis(300)));

    assertThat(get(origin.uri("/stall"), null).body()).isEqualTo(content);
    List<RecordedRequest> requests = gets("/stall");
    assertThat(requests).hasSize(2);
    assertThat(requests.get(1).getHeaders().get("Range")).isEqualTo("bytes=500000-");
  }

  @Test
  void anOriginIgnoringRangesIsReadFromZeroSkippedAndStillCached() throws Exception {
    byte[] content = RangeOrigin.randomBytes(2 << 20, 14);
    origin.file("/norange", content);
    origin.ignoreRanges = true;
    start(CacheConfig.builder());

    HttpResponse<byte[]> response = get(origin.uri("/norange"), "bytes=1500000-");
    assertThat(response.statusCode()).isEqualTo(206);
    assertThat(response.body()).isEqualTo(Arrays.copyOfRange(content, 1_500_000, content.length));
    assertThat(get(origin.uri("/norange"), "bytes=0-99").body()).isEqualTo(Arrays.copyOf(content, 100));
    assertThat(gets("/norange")).hasSize(1);
    assertThat(manager.metadata(origin.uri("/norange")).orElseThrow().complete()).isTrue();
  }

  @Test
  void aChunkedBodyLearnsItsLengthAtItsEnd() throws Exception {
    byte[] content = RangeOrigin.randomBytes(300_000, 15);
    origin.file("/chunked", content);
    origin.chunked = true;
    start(CacheConfig.builder());

    HttpResponse<byte[]> whole = get(origin.uri("/chunked"), null);
    assertThat(whole.statusCode()).isEqualTo(200);
    assertThat(whole.body()).isEqualTo(content);
    HttpResponse<byte[]> tail = get(origin.uri("/chunked"), "bytes=-1000");
    assertThat(tail.statusCode()).isEqualTo(206);
    assertThat(tail.headers().firstValue("Content-Range")).hasValue("bytes 299000-299999/300000");
    assertThat(tail.body()).isEqualTo(Arrays.copyOfRange(content, 299_000, 300_000));
    assertThat(manager.metadata(origin.uri("/chunked")).orElseThrow().length()).isEqualTo(300_000);
  }

  @Test
  void aRangeOfAChunkedBodyWaitsForTheLength() throws Exception {
    byte[] content = RangeOrigin.randomBytes(300_000, 16);
    origin.file("/chunked-range", content).throttle(64 * 1024, 20);
    origin.chunked = true;
    start(CacheConfig.builder());

    HttpResponse<byte[]> tail = get(origin.uri("/chunked-range"), "bytes=250000-");
    assertThat(tail.statusCode()).isEqualTo(206);
    assertThat(tail.body()).isEqualTo(Arrays.copyOfRange(content, 250_000, 300_000));
  }

  @Test
  void redirectsAreFollowedAndCachedUnderTheOriginalKeyWithTheFinalUrlRecorded() throws Exception {
    byte[] content = RangeOrigin.randomBytes(100_000, 17);
    origin.file("/new", content);
    for (int code : new int[] {301, 302, 307, 308}) {
      origin.override("/old" + code, r -> new MockResponse.Builder().code(code).addHeader("Location", "/new").build());
    }
    start(CacheConfig.builder());

    for (int code : new int[] {301, 302, 307, 308}) {
      URI old = origin.uri("/old" + code);
      assertThat(get(old, null).body()).as("%d", code).isEqualTo(content);
      CacheMetadata meta = manager.metadata(old).orElseThrow();
      assertThat(meta.finalUrl()).endsWith("/new");
      assertThat(meta.source()).isEqualTo(old);
    }
    assertThat(manager.metadata(origin.uri("/new"))).isEmpty();
  }

  @Test
  void aBodyShorterThanItsContentLengthIsAnErrorNotACompleteEntry() throws Exception {
    byte[] content = RangeOrigin.randomBytes(200_000, 18);
    origin.file("/short", content).fault("/short", 1000, 0);
    start(CacheConfig.builder().retryAttempts(0));

    assertThatThrownBy(() -> get(origin.uri("/short"), null)).isInstanceOf(IOException.class);
    CacheMetadata meta = manager.metadata(origin.uri("/short")).orElseThrow();
    assertThat(meta.complete()).isFalse();
    assertThat(meta.cachedBytes()).isEqualTo(1000);
  }

  @Test
  void anOutdatedEntryIsRevalidatedAndA304KeepsIt() throws Exception {
    byte[] content = RangeOrigin.randomBytes(200_000, 19);
    origin.file("/fresh", content);
    origin.extraHeaders.put("Cache-Control", "max-age=0");
    start(CacheConfig.builder().validateOutdatedCache(true));

    assertThat(get(origin.uri("/fresh"), null).body()).isEqualTo(content);
    assertThat(get(origin.uri("/fresh"), null).body()).isEqualTo(content);
    List<RecordedRequest> gets = gets("/fresh");
    assertThat(gets).hasSize(2);
    assertThat(gets.get(1).getHeaders().get("If-None-Match")).isEqualTo(origin.contents.get("/fresh").etag);
    assertThat(origin.bodyBytesSent.get()).isEqualTo(content.length);
  }

  @Test
  void anOutdatedEntryWhoseOriginChangedIsReplaced() throws Exception {
    byte[] v1 = RangeOrigin.randomBytes(200_000, 20);
    byte[] v2 = RangeOrigin.randomBytes(150_000, 21);
    origin.file("/changing", v1);
    origin.extraHeaders.put("Cache-Control", "max-age=0");
    start(CacheConfig.builder().validateOutdatedCache(true));

    assertThat(get(origin.uri("/changing"), null).body()).isEqualTo(v1);
    origin.file("/changing", v2);
    HttpResponse<byte[]> after = get(origin.uri("/changing"), null);
    assertThat(after.body()).isEqualTo(v2);
    assertThat(manager.metadata(origin.uri("/changing")).orElseThrow().length()).isEqualTo(150_000);
  }

  @Test
  void aFreshEntryIsNotRevalidated() throws Exception {
    byte[] content = RangeOrigin.randomBytes(50_000, 22);
    origin.file("/still-fresh", content);
    origin.extraHeaders.put("Cache-Control", "max-age=3600");
    start(CacheConfig.builder().validateOutdatedCache(true));

    get(origin.uri("/still-fresh"), null);
    get(origin.uri("/still-fresh"), null);
    assertThat(gets("/still-fresh")).hasSize(1);
  }

  @Test
  void aValidatorChangeDuringAResumeResetsTheEntryAndNeverMixesVersions() throws Exception {
    byte[] v1 = RangeOrigin.randomBytes(2 << 20, 23);
    byte[] v2 = RangeOrigin.randomBytes(2 << 20, 24);
    origin.file("/swap", v1).fault("/swap", 1 << 20, 0);
    origin.override("/swap", r -> {
      if (r.getHeaders().get("If-Range") != null) {
        origin.file("/swap", v2); // the origin changed between the cut and the resume
      }
      return origin.serve(r, "/swap");
    });
    start(CacheConfig.builder());

    // The first client was reading v1: its body is cut rather than continued with v2 bytes.
    assertThatThrownBy(() -> get(origin.uri("/swap"), null)).isInstanceOf(IOException.class);
    assertThat(get(origin.uri("/swap"), null).body()).isEqualTo(v2);
    CacheMetadata meta = manager.metadata(origin.uri("/swap")).orElseThrow();
    assertThat(meta.headers().get("etag")).isEqualTo(origin.contents.get("/swap").etag);
  }

  @Test
  void validateAndResetOnTheStreamApi() throws Exception {
    byte[] v1 = RangeOrigin.randomBytes(100_000, 25);
    origin.file("/api", v1);
    start(CacheConfig.builder());
    URI source = origin.uri("/api");
    manager.preCache(source).get();

    try (CacheStream stream = manager.stream(source)) {
      assertThat(stream.validate().get()).isTrue();
      origin.file("/api", RangeOrigin.randomBytes(100_000, 26));
      assertThat(stream.validate().get()).isFalse();
      assertThat(stream.state().cachedBytes()).isZero();
      manager.preCache(source).get();
      assertThat(stream.state().cachedBytes()).isEqualTo(100_000);
      stream.reset();
      assertThat(stream.state().cachedBytes()).isZero();
      assertThat(stream.state().sourceLength()).isNull();
    }
  }

  @Test
  void offsetsPastFourGibibytesAreServedFromASparseEntry() throws Exception {
    long length = 6L << 30;
    origin.generated("/huge", length);
    start(CacheConfig.builder().readAhead(0L));
    URI source = origin.uri("/huge");

    long from = length - 100_000;
    HttpResponse<byte[]> tail = get(source, "bytes=" + from + "-");
    assertThat(tail.statusCode()).isEqualTo(206);
    assertThat(tail.headers().firstValue("Content-Range")).hasValue("bytes " + from + "-" + (length - 1) + "/" + length);
    byte[] expected = new byte[100_000];
    for (int i = 0; i < expected.length; i++) {
      expected[i] = RangeOrigin.Content.generatedByte(from + i);
    }
    assertThat(tail.body()).isEqualTo(expected);
    long mid = (4L << 30) + 12345;
    HttpResponse<byte[]> middle = get(source, "bytes=" + mid + "-" + (mid + 9));
    for (int i = 0; i < 10; i++) {
      assertThat(middle.body()[i]).isEqualTo(RangeOrigin.Content.generatedByte(mid + i));
    }
    CacheMetadata meta = manager.metadata(source).orElseThrow();
    assertThat(meta.length()).isEqualTo(length);
    assertThat(meta.ranges()).anySatisfy(r -> assertThat(r.end()).isEqualTo(length));
    assertThat(meta.cachedBytes()).isLessThan(64L << 20);
  }
}
