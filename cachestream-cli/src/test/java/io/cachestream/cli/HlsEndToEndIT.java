package io.cachestream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * HLS and progressive MP4 through the real daemon in front of a real nginx, played by real players (ffprobe, ffmpeg,
 * mpv): the end-to-end half of issue 6.
 *
 * <p>Content, generated once with ffmpeg: a 40 s 320x240 MP4 with {@code moov} first (faststart) and the same media
 * with {@code moov} at the end; a 160x120 rendition; from both, HLS VOD streams with a two-variant master playlist and
 * 4 s segments, published on nginx under {@code /hls/NAME/}:
 *
 * <ul>
 *   <li>{@code ts}: MPEG-TS segments, relative URIs (as ffmpeg writes them);
 *   <li>{@code ts-abs}: the same, every variant and segment URI rewritten to an absolute origin URL;
 *   <li>{@code aes}: AES-128 encrypted segments, the key an absolute origin URL, the rest relative;
 *   <li>{@code fmp4}: fragmented MP4 segments with {@code EXT-X-MAP} init sections, relative URIs;
 *   <li>{@code fmp4-abs}: the same with every URI absolute ({@code EXT-X-MAP} included);
 *   <li>{@code byterange-abs}: one MPEG-TS file per rendition, segments as {@code EXT-X-BYTERANGE} ranges of it,
 *       absolute URIs.
 * </ul>
 *
 * <p>Playback is compared packet by packet ({@code -c copy -f framemd5}) with the same command against the origin, so
 * a skipped segment (ffmpeg's HLS demuxer only warns and goes on) fails the test, not just a non-zero exit.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class HlsEndToEndIT {
  /** Placeholder for the key URI in ffmpeg's key info file; {@link #publish} points it at the origin serving it. */
  private static final String KEY_PLACEHOLDER = "http://key-origin.invalid/";
  private static final List<String> MP4_KINDS = List.of("faststart", "moov-end");
  private static final Pattern URI_ATTRIBUTE = Pattern.compile("URI=\"([^\"]*)\"");
  private static final Pattern BANDWIDTH = Pattern.compile("[:,]BANDWIDTH=(\\d+)");
  /** 40 s at 25 fps. */
  private static final int VIDEO_PACKETS = 1000;

  @TempDir static Path tmp;
  NginxOrigin nginx;
  Daemon daemon;
  Path cacheDir;
  Path media;
  Path hls;
  final ObjectMapper json = new ObjectMapper();

  record Result(int exit, String out, String err) {}

  @BeforeAll
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void makeContentAndStartOriginAndDaemon() throws Exception {
    media = Files.createDirectories(tmp.resolve("media"));
    hls = Files.createDirectories(tmp.resolve("hls"));
    Path big = media.resolve("faststart.mp4");
    Path small = media.resolve("small.mp4");
    for (String[] r : new String[][] {{"320x240", big.toString()}, {"160x120", small.toString()}}) {
      run(90, "ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc=duration=40:size=" + r[0] + ":rate=25",
          "-f", "lavfi", "-i", "sine=duration=40", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-c:a", "aac",
          "-movflags", "+faststart", "-y", r[1]);
    }
    // Same packets, moov written after mdat (no +faststart).
    run(30, "ffmpeg", "-v", "error", "-nostdin", "-i", big.toString(), "-c", "copy", "-y",
        media.resolve("moov-end.mp4").toString());
    assertThat(indexOf(Files.readAllBytes(big), "moov")).isLessThan(indexOf(Files.readAllBytes(big), "mdat"));
    byte[] moovEnd = Files.readAllBytes(media.resolve("moov-end.mp4"));
    assertThat(indexOf(moovEnd, "moov")).isGreaterThan(indexOf(moovEnd, "mdat"));

    segment("ts", "seg%03d.ts");
    Path aes = Files.createDirectories(hls.resolve("aes"));
    byte[] key = new byte[16];
    new java.security.SecureRandom().nextBytes(key);
    Files.write(aes.resolve("aes.key"), key);
    // Key info file: key URI written into the playlist, key file path; no IV line (IV = media sequence number).
    Path keyInfo = Files.writeString(tmp.resolve("aes.keyinfo"),
        KEY_PLACEHOLDER + "aes.key\n" + aes.resolve("aes.key") + "\n");
    segment("aes", "seg%03d.ts", "-hls_key_info_file", keyInfo.toString());
    segment("fmp4", "seg%03d.m4s", "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4");
    // One file per rendition, segments as EXT-X-BYTERANGE sub-ranges of it.
    segment("byterange", "media.ts", "-hls_flags", "single_file");

    nginx = new NginxOrigin(tmp.resolve("nginx"));
    Path mp4 = Files.createDirectories(nginx.www.resolve("mp4"));
    for (String kind : MP4_KINDS) {
      // Fresh names per use, so that "cold" really is the first request the daemon sees for that URL.
      for (String use : List.of("origin", "probe", "seek", "mpv")) {
        Files.copy(media.resolve(kind + ".mp4"), mp4.resolve(use + "-" + kind + ".mp4"));
      }
    }
    publish(nginx, "ts", "ts", false);
    publish(nginx, "ts", "ts-abs", true);
    publish(nginx, "aes", "aes", false);
    publish(nginx, "fmp4", "fmp4", false);
    publish(nginx, "fmp4", "fmp4-abs", true);
    publish(nginx, "byterange", "byterange-abs", true);
    assertThat(read(nginx, "/hls/aes/stream_0/index.m3u8"))
        .contains("#EXT-X-KEY:METHOD=AES-128,URI=\"" + nginx.url("/hls/aes/aes.key") + "\"");
    assertThat(read(nginx, "/hls/fmp4-abs/stream_1/index.m3u8"))
        .contains("#EXT-X-MAP:URI=\"" + nginx.url("/hls/fmp4-abs/stream_1/init_1.mp4") + "\"");
    assertThat(read(nginx, "/hls/ts-abs/master.m3u8")).contains(nginx.url("/hls/ts-abs/stream_1/index.m3u8"));
    assertThat(read(nginx, "/hls/byterange-abs/stream_0/index.m3u8")).contains("#EXT-X-BYTERANGE:")
        .contains(nginx.url("/hls/byterange-abs/stream_0/media.ts"));
    assertThat(bandwidths(nginx, "/hls/ts/master.m3u8").values()).hasSize(2).doesNotHaveDuplicates();

    cacheDir = tmp.resolve("cache");
    daemon = Daemon.start(cacheDir);
  }

  /** A dead daemon explains every failure after it; say so once, with its log. */
  @AfterEach
  void daemonIsStillServing() {
    assertThat(daemon.process.isAlive()).as("the daemon is still running; its stderr:%n%s", daemon.stderr).isTrue();
  }

  @AfterAll
  void stop() throws Exception {
    if (daemon != null) {
      daemon.close();
    }
    if (nginx != null) {
      nginx.close();
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Progressive MP4

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"faststart", "moov-end"})
  void ffprobeAndAnFfmpegSeekThroughTheProxyEqualTheOriginColdAndWarm(String kind) throws Exception {
    String direct = nginx.url("/mp4/origin-" + kind + ".mp4");
    String expectedProbe = ffprobe(direct);
    String expectedFrame = frameAt30(direct);
    assertThat(expectedProbe).contains("h264").contains("aac");
    assertThat(expectedFrame).contains("0,");

    String probeUrl = daemon.proxyUrl(nginx.url("/mp4/probe-" + kind + ".mp4"));
    assertThat(ffprobe(probeUrl)).as("ffprobe cold").isEqualTo(expectedProbe);
    assertThat(ffprobe(probeUrl)).as("ffprobe warm").isEqualTo(expectedProbe);

    String seekUrl = daemon.proxyUrl(nginx.url("/mp4/seek-" + kind + ".mp4"));
    assertThat(frameAt30(seekUrl)).as("ffmpeg -ss 30 cold").isEqualTo(expectedFrame);
    assertThat(frameAt30(seekUrl)).as("ffmpeg -ss 30 warm").isEqualTo(expectedFrame);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // HLS through the proxy

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"ts", "ts-abs", "aes", "fmp4", "fmp4-abs", "byterange-abs"})
  void anHlsMasterPlaylistPlaysToTheEndThroughTheProxyColdAndWarm(String stream) throws Exception {
    String master = nginx.url("/hls/" + stream + "/master.m3u8");
    String expected = playPackets(master);
    assertThat(videoPackets(expected)).as("the origin plays the whole stream").isEqualTo(VIDEO_PACKETS);

    String proxied = daemon.proxyUrl(master);
    assertThat(playPackets(proxied)).as("cold").isEqualTo(expected);
    assertThat(playPackets(proxied)).as("warm").isEqualTo(expected);
    // The command of the issue, as is.
    Result plain = run(60, "ffmpeg", "-v", "error", "-nostdin", "-i", proxied, "-c", "copy", "-f", "null", "-");
    assertThat(plain.err()).as("ffmpeg stderr").isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"ts", "ts-abs", "aes", "fmp4", "fmp4-abs", "byterange-abs"})
  void everyRequestOfAnHlsPlaybackGoesThroughTheProxyAndIsCached(String stream) throws Exception {
    String master = nginx.url("/hls/" + stream + "/master.m3u8");
    playPackets(daemon.proxyUrl(master));
    // ffmpeg plays the best video: the 320x240 rendition, stream_0.
    String variant = nginx.url("/hls/" + stream + "/stream_0/index.m3u8");
    List<String> media = mediaUris(nginx, variant);
    assertThat(media).as("media URIs of %s", variant).isNotEmpty();
    Set<String> needed = new LinkedHashSet<>(List.of(master, variant));
    needed.addAll(media);

    assertThat(cachedUrls(cacheDir)).as("cache entries after playing %s through the proxy (absolute URIs not "
        + "rewritten to proxy URLs go straight to the origin and are missing here)", stream).containsAll(needed);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"/hls/ts-abs/master.m3u8", "/hls/ts-abs/stream_0/index.m3u8",
      "/hls/aes/stream_1/index.m3u8", "/hls/fmp4-abs/master.m3u8", "/hls/fmp4-abs/stream_0/index.m3u8",
      "/hls/byterange-abs/stream_0/index.m3u8", "/hls/ts/stream_0/index.m3u8"})
  void playlistsThroughTheProxyPointEveryUriAtTheProxyAndKeepEveryOtherLineByteIdentical(String path)
      throws Exception {
    String originUrl = nginx.url(path);
    String proxyUrl = daemon.proxyUrl(originUrl);
    String original = read(nginx, path);
    Result got = run(30, "curl", "-s", "-f", "--path-as-is", proxyUrl);
    String[] want = original.split("\n", -1);
    String[] have = got.out().split("\n", -1);
    assertThat(have).as("lines of %s through the proxy:%n%s", path, got.out()).hasSameSizeAs(want);
    URI originBase = URI.create(originUrl);
    URI proxyBase = URI.create(proxyUrl);
    for (int i = 0; i < want.length; i++) {
      String w = want[i];
      String h = have[i];
      if (isUriLine(w)) {
        assertThat(isUriLine(h)).as("line %d: %s", i + 1, h).isTrue();
        assertThat(proxyBase.resolve(h.trim()).toString()).as("line %d: %s (was %s)", i + 1, h, w)
            .isEqualTo(daemon.proxyUrl(originBase.resolve(w.trim()).toString()));
      } else if (w.startsWith("#") && URI_ATTRIBUTE.matcher(w).find()) {
        List<String> wantUris = attributeUris(w);
        List<String> haveUris = attributeUris(h);
        assertThat(haveUris).as("line %d: %s", i + 1, h).hasSameSizeAs(wantUris);
        for (int u = 0; u < wantUris.size(); u++) {
          assertThat(proxyBase.resolve(haveUris.get(u)).toString()).as("line %d: %s (was %s)", i + 1, h, w)
              .isEqualTo(daemon.proxyUrl(originBase.resolve(wantUris.get(u)).toString()));
        }
        assertThat(URI_ATTRIBUTE.matcher(h).replaceAll("URI=\"\"")).as("line %d outside its URI", i + 1)
            .isEqualTo(URI_ATTRIBUTE.matcher(w).replaceAll("URI=\"\""));
      } else {
        assertThat(h).as("line %d of %s", i + 1, path).isEqualTo(w);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // mpv

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"/mp4/mpv-faststart.mp4", "/mp4/mpv-moov-end.mp4", "/hls/ts/master.m3u8",
      "/hls/aes/master.m3u8"})
  void mpvPlaysThreeSecondsFromTwentySecondsThroughTheProxy(String path) throws Exception {
    Result mpv = exec(60, "mpv", "--no-config", "--vo=null", "--ao=null", "--start=20", "--length=3",
        daemon.proxyUrl(nginx.url(path)));
    String log = mpv.out() + mpv.err();
    assertThat(mpv.exit()).as("mpv exit code; output:%n%s", log).isZero();
    assertThat(log).contains("Exiting... (End of file)").contains("AV: 00:00:2");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Pre-cache, then offline

  @Test
  void afterPreCacheTheHighestBandwidthRenditionPlaysToTheEndWithTheOriginStopped() throws Exception {
    Path dir = tmp.resolve("cache-precache-highest");
    try (NginxOrigin own = new NginxOrigin(tmp.resolve("nginx-precache-highest"));
        Daemon proxy = Daemon.start(dir)) {
      // Absolute URIs everywhere, AES-128 key included: all of it must come from the cache once the origin is gone.
      publish(own, "aes", "aes-abs", true);
      String master = own.url("/hls/aes-abs/master.m3u8");
      Map<String, Long> bandwidths = bandwidths(own, "/hls/aes-abs/master.m3u8");
      String chosen = bandwidths.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
      String other = bandwidths.keySet().stream().filter(v -> !v.equals(chosen)).findFirst().orElseThrow();
      preCacheAndPlayOffline(own, proxy, dir, master, chosen, other);
    }
  }

  @Test
  void preCacheWithMaxBandwidthTakesTheHighestRenditionAtOrBelowItAndItPlaysOffline() throws Exception {
    Path dir = tmp.resolve("cache-precache-max-bandwidth");
    try (NginxOrigin own = new NginxOrigin(tmp.resolve("nginx-precache-max-bandwidth"));
        Daemon proxy = Daemon.start(dir)) {
      // fMP4 with absolute URIs: the EXT-X-MAP init sections must be pre-cached too.
      publish(own, "fmp4", "fmp4-abs", true);
      String master = own.url("/hls/fmp4-abs/master.m3u8");
      Map<String, Long> bandwidths = bandwidths(own, "/hls/fmp4-abs/master.m3u8");
      long low = bandwidths.values().stream().mapToLong(Long::longValue).min().orElseThrow();
      long high = bandwidths.values().stream().mapToLong(Long::longValue).max().orElseThrow();
      String chosen = bandwidths.entrySet().stream().filter(e -> e.getValue() == low).findFirst().orElseThrow()
          .getKey();
      String other = bandwidths.entrySet().stream().filter(e -> e.getValue() == high).findFirst().orElseThrow()
          .getKey();
      preCacheAndPlayOffline(own, proxy, dir, master, chosen, other, "--max-bandwidth", Long.toString(high - 1));
    }
  }

  /**
   * Plays {@code chosen} from the origin for reference, pre-caches {@code master} with the CLI against the daemon's
   * cache dir, checks what was cached (all of {@code chosen}, no segment of {@code other}), stops the origin and
   * plays the master playlist through the proxy: it must give the same packets, to the end.
   */
  private void preCacheAndPlayOffline(NginxOrigin own, Daemon proxy, Path dir, String master, String chosen,
      String other, String... options) throws Exception {
    String expected = playPackets(chosen);
    assertThat(videoPackets(expected)).isEqualTo(VIDEO_PACKETS);

    List<String> command = new ArrayList<>(List.of("precache", master));
    command.addAll(List.of(options));
    command.addAll(List.of("--cache-dir", dir.toString()));
    Result pre = cli(command.toArray(String[]::new));
    assertThat(pre.exit()).as("precache exit code; stderr:%n%s", pre.err()).isZero();

    Set<String> needed = new LinkedHashSet<>(List.of(master, chosen));
    needed.addAll(mediaUris(own, chosen));
    Set<String> cached = cachedUrls(dir);
    assertThat(cached).as("cache entries after precache %s", String.join(" ", options)).containsAll(needed);
    // What only the other rendition needs (a key both share is needed anyway).
    List<String> otherMedia = mediaUris(own, other).stream().filter(u -> !needed.contains(u)).toList();
    assertThat(otherMedia).isNotEmpty();
    assertThat(cached).as("media of the rendition not chosen").doesNotContainAnyElementsOf(otherMedia);

    own.stop();
    assertThat(exec(10, "curl", "-s", "-o", "/dev/null", master).exit()).as("origin is stopped").isNotZero();
    String offline = playPackets(proxy.proxyUrl(master));
    assertThat(offline).as("master playlist played offline through the proxy").isEqualTo(expected);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Content

  /**
   * {@code ffmpeg -f hls} of both renditions (copied, not re-encoded) into {@code hls/NAME/stream_0|1/}, segments
   * named {@code segmentFile}, with a master playlist.
   */
  private void segment(String name, String segmentFile, String... options) throws Exception {
    Path out = Files.createDirectories(hls.resolve(name));
    List<String> command = new ArrayList<>(List.of("ffmpeg", "-v", "error", "-nostdin",
        "-i", media.resolve("faststart.mp4").toString(), "-i", media.resolve("small.mp4").toString(),
        "-map", "0:v", "-map", "0:a", "-map", "1:v", "-map", "1:a", "-c", "copy",
        "-f", "hls", "-hls_time", "4", "-hls_playlist_type", "vod"));
    command.addAll(List.of(options));
    command.addAll(List.of("-hls_segment_filename", out.resolve("stream_%v").resolve(segmentFile).toString(),
        "-master_pl_name", "master.m3u8", "-var_stream_map", "v:0,a:0 v:1,a:1",
        out.resolve("stream_%v/index.m3u8").toString()));
    run(60, command.toArray(String[]::new));
    assertThat(out.resolve("master.m3u8")).exists();
  }

  /**
   * Copies {@code hls/SOURCE} to {@code /hls/NAME/} on {@code origin}: the key URI placeholder becomes the origin's
   * key URL, and with {@code absolute} every relative URI in every playlist becomes an absolute origin URL.
   */
  private void publish(NginxOrigin origin, String source, String name, boolean absolute) throws IOException {
    Path from = hls.resolve(source);
    Path to = origin.www.resolve("hls").resolve(name);
    List<Path> files;
    try (Stream<Path> walk = Files.walk(from)) {
      files = walk.filter(Files::isRegularFile).toList();
    }
    for (Path file : files) {
      String rel = from.relativize(file).toString().replace('\\', '/');
      Path target = to.resolve(rel);
      Files.createDirectories(target.getParent());
      if (!rel.endsWith(".m3u8")) {
        Files.copy(file, target);
        continue;
      }
      String text = Files.readString(file).replace(KEY_PLACEHOLDER, origin.url("/hls/" + name + "/"));
      if (absolute) {
        text = absolutize(text, URI.create(origin.url("/hls/" + name + "/" + rel)));
      }
      Files.writeString(target, text);
    }
  }

  static String absolutize(String playlist, URI base) {
    StringBuilder out = new StringBuilder();
    for (String line : playlist.split("\n", -1)) {
      if (out.length() > 0) {
        out.append('\n');
      }
      if (isUriLine(line)) {
        out.append(base.resolve(line.trim()));
      } else if (line.startsWith("#")) {
        out.append(URI_ATTRIBUTE.matcher(line)
            .replaceAll(m -> Matcher.quoteReplacement("URI=\"" + base.resolve(m.group(1)) + "\"")));
      } else {
        out.append(line);
      }
    }
    return out.toString();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Playlists on disk

  static boolean isUriLine(String line) {
    return !line.isBlank() && !line.startsWith("#");
  }

  static List<String> attributeUris(String line) {
    List<String> uris = new ArrayList<>();
    Matcher m = URI_ATTRIBUTE.matcher(line);
    while (m.find()) {
      uris.add(m.group(1));
    }
    return uris;
  }

  /** The text of {@code url} (an origin URL) as nginx serves it. */
  static String read(NginxOrigin origin, String url) throws IOException {
    String path = url.startsWith("http") ? URI.create(url).getPath() : url;
    return Files.readString(origin.www.resolve(path.substring(1)));
  }

  /** Every URI a media playlist references (segments, keys, init sections), resolved to origin URLs. */
  static List<String> mediaUris(NginxOrigin origin, String playlistUrl) throws IOException {
    URI base = URI.create(playlistUrl);
    List<String> uris = new ArrayList<>();
    for (String line : read(origin, playlistUrl).split("\n")) {
      if (isUriLine(line)) {
        uris.add(base.resolve(line.trim()).toString());
      } else if (line.startsWith("#")) {
        attributeUris(line).forEach(u -> uris.add(base.resolve(u).toString()));
      }
    }
    return uris.stream().distinct().toList();
  }

  /** Variant origin URL to BANDWIDTH, from a master playlist. */
  static Map<String, Long> bandwidths(NginxOrigin origin, String path) throws IOException {
    URI base = URI.create(origin.url(path));
    Map<String, Long> variants = new LinkedHashMap<>();
    String[] lines = read(origin, path).split("\n");
    for (int i = 0; i < lines.length; i++) {
      Matcher m = BANDWIDTH.matcher(lines[i]);
      if (lines[i].startsWith("#EXT-X-STREAM-INF:") && m.find()) {
        int j = i + 1;
        while (!isUriLine(lines[j])) {
          j++;
        }
        variants.put(base.resolve(lines[j].trim()).toString(), Long.parseLong(m.group(1)));
      }
    }
    return variants;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Players and the CLI

  static String ffprobe(String url) throws Exception {
    return run(60, "ffprobe", "-v", "error", "-show_entries",
        "format=duration,size,bit_rate,nb_streams:stream=index,codec_name,profile,width,height,pix_fmt,sample_rate,"
            + "channels,nb_frames,duration,bit_rate", "-of", "csv=p=0", url).out();
  }

  static String frameAt30(String url) throws Exception {
    return run(60, "ffmpeg", "-v", "error", "-nostdin", "-ss", "30", "-i", url, "-frames:v", "1", "-f", "framemd5",
        "-").out();
  }

  /** Every packet ffmpeg's default stream selection plays, with checksums and timestamps. */
  static String playPackets(String url) throws Exception {
    return run(60, "ffmpeg", "-v", "error", "-nostdin", "-i", url, "-c", "copy", "-f", "framemd5", "-").out();
  }

  static long videoPackets(String framemd5) {
    return framemd5.lines().filter(l -> l.startsWith("0,")).count();
  }

  Set<String> cachedUrls(Path dir) throws Exception {
    Result ls = cli("ls", "--json", "--cache-dir", dir.toString());
    assertThat(ls.exit()).as("ls exit code; stderr:%n%s", ls.err()).isZero();
    Set<String> urls = new LinkedHashSet<>();
    for (JsonNode entry : json.readTree(ls.out())) {
      urls.add(entry.get("url").asText());
    }
    return urls;
  }

  static Result cli(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Daemon.REPO.resolve("bin/cachestream").toString()));
    command.addAll(List.of(args));
    return exec(60, command.toArray(String[]::new));
  }

  /** Runs a command, fails on a non-zero exit (with its stderr), returns its output. */
  static Result run(int timeoutSeconds, String... command) throws Exception {
    Result r = exec(timeoutSeconds, command);
    assertThat(r.exit()).as("exit code of %s; stderr:%n%s", String.join(" ", command), r.err()).isZero();
    return r;
  }

  /** Runs a command with stdin closed, output to files, killed if it outlives {@code timeoutSeconds}. */
  static Result exec(int timeoutSeconds, String... command) throws Exception {
    Path out = Files.createTempFile(tmp, "out", ".txt");
    Path err = Files.createTempFile(tmp, "err", ".txt");
    Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    try {
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        fail("%s did not finish within %d s; stderr:%n%s", String.join(" ", command), timeoutSeconds,
            new String(Files.readAllBytes(err), StandardCharsets.UTF_8));
      }
    } finally {
      if (p.isAlive()) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    return new Result(p.exitValue(), new String(Files.readAllBytes(out), StandardCharsets.UTF_8),
        new String(Files.readAllBytes(err), StandardCharsets.UTF_8));
  }

  static int indexOf(byte[] data, String ascii) {
    byte[] needle = ascii.getBytes(StandardCharsets.US_ASCII);
    outer:
    for (int i = 0; i + needle.length <= data.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (data[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
