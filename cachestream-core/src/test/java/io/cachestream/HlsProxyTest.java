package io.cachestream;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.MockResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Playlists through the proxy: rewritten, cached when VOD, refreshed when live, pre-cached for offline play. */
@Timeout(60)
class HlsProxyTest extends ProxyTestSupport {

  private String text(HttpResponse<byte[]> response) {
    return new String(response.body(), StandardCharsets.UTF_8);
  }

  @Test
  void aPlaylistIsServedWithAbsoluteUrisPointingAtTheProxy() throws Exception {
    String origin = "http://127.0.0.1:" + this.origin.server.getPort();
    this.origin.file("/vod/index.m3u8", ("#EXTM3U\r\n#EXT-X-TARGETDURATION:4\r\n"
        + "#EXT-X-KEY:METHOD=AES-128,URI=\"" + origin + "/keys/k.bin\"\r\n#EXTINF:4,\r\n" + origin + "/vod/a.ts\r\n"
        + "#EXTINF:4,\r\nb.ts\r\n#EXT-X-ENDLIST\r\n").getBytes(StandardCharsets.UTF_8));
    start(CacheConfig.builder());
    HttpResponse<byte[]> response = get(this.origin.uri("/vod/index.m3u8"), null);
    String proxy = manager.baseUrl().toString() + "http/127.0.0.1:" + this.origin.server.getPort();
    assertThat(text(response)).isEqualTo("#EXTM3U\r\n#EXT-X-TARGETDURATION:4\r\n"
        + "#EXT-X-KEY:METHOD=AES-128,URI=\"" + proxy + "/keys/k.bin\"\r\n#EXTINF:4,\r\n" + proxy + "/vod/a.ts\r\n"
        + "#EXTINF:4,\r\nb.ts\r\n#EXT-X-ENDLIST\r\n");
    assertThat(response.headers().firstValueAsLong("Content-Length")).hasValue(response.body().length);
    get(this.origin.uri("/vod/index.m3u8"), null);
    assertThat(this.origin.requestsFor("/vod/index.m3u8")).hasSize(1); // VOD: cached
  }

  @Test
  void aLivePlaylistIsRefetchedOnceOlderThanHalfItsTargetDuration() throws Exception {
    AtomicInteger sequence = new AtomicInteger();
    origin.override("/live.m3u8", r -> {
      int n = sequence.incrementAndGet();
      return new MockResponse.Builder().code(200).addHeader("Content-Type", "application/vnd.apple.mpegurl")
          .body("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:" + n + "\n#EXTINF:6,\nseg" + n + ".ts\n")
          .build();
    });
    start(CacheConfig.builder());
    URI live = origin.uri("/live.m3u8");

    long fetched = System.nanoTime();
    HttpResponse<byte[]> first = get(live, null);
    assertThat(text(first)).contains("seg1.ts");
    assertThat(first.headers().firstValue("Cache-Control")).hasValue("no-cache");
    String second = text(get(live, null));
    if (System.nanoTime() - fetched < TimeUnit.MILLISECONDS.toNanos(2500)) { // the machine was not stalled
      assertThat(second).as("fresh for half the target duration (3 s)").contains("seg1.ts");
    }
    TimeUnit.MILLISECONDS.sleep(3100);
    assertThat(text(get(live, null))).as("older than half the target duration").doesNotContain("seg1.ts");
  }

  @Test
  void preCacheOfAMasterPlaylistTakesTheChosenVariantAndPlaysOffline() throws Exception {
    origin.file("/m/master.m3u8", ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=300000\nlow/index.m3u8\n"
        + "#EXT-X-STREAM-INF:BANDWIDTH=900000\nhigh/index.m3u8\n").getBytes(StandardCharsets.UTF_8));
    for (String v : new String[] {"low", "high"}) {
      origin.file("/m/" + v + "/index.m3u8", ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"init.mp4\"\n"
          + "#EXTINF:4,\ns1.m4s\n#EXTINF:4,\ns2.m4s\n#EXT-X-ENDLIST\n").getBytes(StandardCharsets.UTF_8));
      for (String f : new String[] {"init.mp4", "s1.m4s", "s2.m4s"}) {
        origin.file("/m/" + v + "/" + f, RangeOrigin.randomBytes(50_000, (v + f).hashCode()));
      }
    }
    start(CacheConfig.builder());

    manager.preCacheHls(origin.uri("/m/master.m3u8"), 500_000).get(30, TimeUnit.SECONDS);
    for (String f : new String[] {"index.m3u8", "init.mp4", "s1.m4s", "s2.m4s"}) {
      assertThat(manager.metadata(origin.uri("/m/low/" + f))).as(f).hasValueSatisfying(m ->
          assertThat(m.complete()).isTrue());
      assertThat(manager.metadata(origin.uri("/m/high/" + f))).as(f).isEmpty();
    }
    origin.close();
    assertThat(get(origin.uri("/m/low/s2.m4s"), null).body())
        .isEqualTo(RangeOrigin.randomBytes(50_000, ("low" + "s2.m4s").hashCode()));
    assertThat(text(get(origin.uri("/m/master.m3u8"), null))).contains("low/index.m3u8");
  }
}
