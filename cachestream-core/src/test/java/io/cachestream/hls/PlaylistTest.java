package io.cachestream.hls;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class PlaylistTest {
  private static final URI BASE = URI.create("https://cdn.example.com/vod/master.m3u8");
  private static final UnaryOperator<URI> PROXY =
      u -> URI.create("http://127.0.0.1:4612/" + u.getScheme() + "/" + u.getRawAuthority() + u.getRawPath()
          + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery()));

  private static String rewrite(String playlist) {
    return new String(Playlist.parse(playlist.getBytes(StandardCharsets.UTF_8)).rewrite(BASE, PROXY),
        StandardCharsets.UTF_8);
  }

  @Test
  void rewritesAbsoluteUrisInEveryPlaceTheyOccurAndNothingElse() {
    String master = """
        #EXTM3U
        #EXT-X-VERSION:7
        #EXT-X-SESSION-KEY:METHOD=AES-128,URI="https://keys.example.com/session.key"
        #EXT-X-SESSION-DATA:DATA-ID="com.example.title",URI="https://cdn.example.com/title.json"
        #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",DEFAULT=YES,URI="https://cdn.example.com/audio/en.m3u8"
        #EXT-X-STREAM-INF:BANDWIDTH=1280000,RESOLUTION=640x360,AUDIO="aud"
        https://cdn.example.com/vod/360p.m3u8?token=a%2Fb&x=1
        #EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,URI="https://cdn.example.com/vod/iframes.m3u8"
        #EXT-X-STREAM-INF:BANDWIDTH=2560000
        720p/index.m3u8
        """;
    String out = rewrite(master);
    assertThat(out).isEqualTo("""
        #EXTM3U
        #EXT-X-VERSION:7
        #EXT-X-SESSION-KEY:METHOD=AES-128,URI="http://127.0.0.1:4612/https/keys.example.com/session.key"
        #EXT-X-SESSION-DATA:DATA-ID="com.example.title",URI="http://127.0.0.1:4612/https/cdn.example.com/title.json"
        #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",DEFAULT=YES,URI="http://127.0.0.1:4612/https/cdn.example.com/audio/en.m3u8"
        #EXT-X-STREAM-INF:BANDWIDTH=1280000,RESOLUTION=640x360,AUDIO="aud"
        http://127.0.0.1:4612/https/cdn.example.com/vod/360p.m3u8?token=a%2Fb&x=1
        #EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,URI="http://127.0.0.1:4612/https/cdn.example.com/vod/iframes.m3u8"
        #EXT-X-STREAM-INF:BANDWIDTH=2560000
        720p/index.m3u8
        """);
  }

  @Test
  void rewritesKeysMapsAndByteRangeSegmentsOfAMediaPlaylist() {
    String media = """
        #EXTM3U
        #EXT-X-TARGETDURATION:4
        #EXT-X-MAP:URI="https://cdn.example.com/init.mp4",BYTERANGE="720@0"
        #EXT-X-KEY:METHOD=AES-128,URI="https://keys.example.com/k1",IV=0x1234
        #EXTINF:4.0,
        #EXT-X-BYTERANGE:75232@720
        https://cdn.example.com/all.mp4
        #EXTINF:4.0,
        seg2.ts
        #EXT-X-KEY:METHOD=NONE
        #EXTINF:4.0,
        /root/seg3.ts
        #EXT-X-ENDLIST
        """;
    String out = rewrite(media);
    assertThat(out).contains("#EXT-X-MAP:URI=\"http://127.0.0.1:4612/https/cdn.example.com/init.mp4\",BYTERANGE=\"720@0\"")
        .contains("#EXT-X-KEY:METHOD=AES-128,URI=\"http://127.0.0.1:4612/https/keys.example.com/k1\",IV=0x1234")
        .contains("#EXT-X-BYTERANGE:75232@720\nhttp://127.0.0.1:4612/https/cdn.example.com/all.mp4\n")
        .contains("\nseg2.ts\n")
        .contains("\nhttp://127.0.0.1:4612/https/cdn.example.com/root/seg3.ts\n")
        .contains("#EXT-X-KEY:METHOD=NONE\n")
        .endsWith("#EXT-X-ENDLIST\n");
    Playlist parsed = Playlist.parse(media.getBytes(StandardCharsets.UTF_8));
    assertThat(parsed.isEnded()).isTrue();
    assertThat(parsed.targetDurationSeconds()).isEqualTo(4);
    assertThat(parsed.mediaUris(BASE)).containsExactly(
        URI.create("https://cdn.example.com/init.mp4"), URI.create("https://keys.example.com/k1"),
        URI.create("https://cdn.example.com/all.mp4"), URI.create("https://cdn.example.com/vod/seg2.ts"),
        URI.create("https://cdn.example.com/root/seg3.ts"));
  }

  @Test
  void untouchedLinesStayByteIdenticalIncludingCrlfAndOddSpacing() {
    String crlf = "#EXTM3U\r\n#EXT-X-TARGETDURATION:6\r\n\r\n#EXTINF:6.006,title with \"quotes\"\r\n"
        + "  seg1.ts  \r\n#EXTINF:6.006,\r\nhttps://cdn.example.com/seg2.ts\r\n#SOME-UNKNOWN-TAG:x=1\r\n"
        + "#EXT-X-ENDLIST";
    String out = rewrite(crlf);
    assertThat(out).isEqualTo("#EXTM3U\r\n#EXT-X-TARGETDURATION:6\r\n\r\n#EXTINF:6.006,title with \"quotes\"\r\n"
        + "  seg1.ts  \r\n#EXTINF:6.006,\r\nhttp://127.0.0.1:4612/https/cdn.example.com/seg2.ts\r\n"
        + "#SOME-UNKNOWN-TAG:x=1\r\n#EXT-X-ENDLIST");
    String relativeOnly = "#EXTM3U\n#EXTINF:1,\na.ts\n#EXTINF:1,\n../b.ts?x=%20\n";
    assertThat(rewrite(relativeOnly)).isEqualTo(relativeOnly);
  }

  @Test
  void otherSchemesAndDataUrisAreLeftAlone() {
    String keys = "#EXTM3U\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://key-id\",KEYFORMAT=\"com.apple.streamingkeydelivery\"\n"
        + "#EXT-X-SESSION-KEY:METHOD=AES-128,URI=\"data:text/plain;base64,AAAA\"\n#EXTINF:1,\nftp://x/y.ts\n";
    assertThat(rewrite(keys)).isEqualTo(keys);
  }

  @Test
  void aRedirectedPlaylistHasItsRelativeUrisRewrittenAgainstTheFinalUrl() {
    URI finalUrl = URI.create("https://edge.example.net/x/v/index.m3u8");
    String media = "#EXTM3U\n#EXTINF:1,\nseg1.ts\n";
    String out = new String(Playlist.parse(media.getBytes(StandardCharsets.UTF_8)).rewrite(finalUrl, PROXY, true),
        StandardCharsets.UTF_8);
    assertThat(out).isEqualTo("#EXTM3U\n#EXTINF:1,\nhttp://127.0.0.1:4612/https/edge.example.net/x/v/seg1.ts\n");
  }

  @Test
  void variantsCarryTheirBandwidthAndResolvedUri() {
    String master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=320x240\nlow/index.m3u8\n"
        + "#EXT-X-STREAM-INF:RESOLUTION=640x480,BANDWIDTH=2000000\nhttps://other.example.com/hi.m3u8\n";
    List<Playlist.Variant> variants = Playlist.parse(master.getBytes(StandardCharsets.UTF_8)).variants(BASE);
    assertThat(variants).containsExactly(
        new Playlist.Variant(800_000, URI.create("https://cdn.example.com/vod/low/index.m3u8")),
        new Playlist.Variant(2_000_000, URI.create("https://other.example.com/hi.m3u8")));
  }

  @Test
  void detectsPlaylistsByPathContentTypeOrHeader() {
    assertThat(Playlist.looksLikePlaylist(URI.create("http://h/a/b.m3u8?x=1"), null)).isTrue();
    assertThat(Playlist.looksLikePlaylist(URI.create("http://h/live"), "application/vnd.apple.mpegurl")).isTrue();
    assertThat(Playlist.looksLikePlaylist(URI.create("http://h/live"), "audio/mpegurl; charset=utf-8")).isTrue();
    assertThat(Playlist.looksLikePlaylist(URI.create("http://h/v.mp4"), "video/mp4")).isFalse();
    assertThat(Playlist.hasPlaylistHeader("#EXTM3U\n".getBytes(StandardCharsets.UTF_8))).isTrue();
    assertThat(Playlist.hasPlaylistHeader("\uFEFF#EXTM3U\n".getBytes(StandardCharsets.UTF_8))).isTrue();
    assertThat(Playlist.hasPlaylistHeader("<html>".getBytes(StandardCharsets.UTF_8))).isFalse();
    assertThat(Playlist.parse("#EXTM3U\n#EXTINF:2,\na.ts\n".getBytes(StandardCharsets.UTF_8)).isEnded()).isFalse();
  }
}
