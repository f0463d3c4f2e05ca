package io.cachestream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's player recipes, run as written (headless flags only) against the real daemon: mpv, ffplay and VLC
 * play an MP4 and an HLS stream from a seek point. ffplay and VLC exit 0 even when they cannot open their input, so
 * their error output is checked too, and the daemon's cache must hold what they read.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PlayerRecipesIT {
  @TempDir static Path tmp;
  NginxOrigin nginx;
  Daemon daemon;
  Path cacheDir;

  record Played(int exit, String err) {}

  @BeforeAll
  void start() throws Exception {
    nginx = new NginxOrigin(tmp.resolve("nginx"));
    Path video = nginx.www.resolve("video.mp4");
    DaemonEndToEndIT.run(60, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=40:size=320x240:rate=25",
        "-f", "lavfi", "-i", "sine=duration=40", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-c:a", "aac",
        "-movflags", "+faststart", "-y", video.toString());
    Path hls = Files.createDirectories(nginx.www.resolve("hls"));
    DaemonEndToEndIT.run(60, "ffmpeg", "-v", "error", "-i", video.toString(), "-c", "copy", "-f", "hls", "-hls_time", "4",
        "-hls_playlist_type", "vod", "-hls_segment_filename", hls.resolve("seg%03d.ts").toString(),
        hls.resolve("index.m3u8").toString());
    Files.writeString(hls.resolve("master.m3u8"),
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=320x240\nindex.m3u8\n");
    cacheDir = tmp.resolve("cache");
    daemon = Daemon.start(cacheDir);
  }

  @AfterAll
  void stop() throws Exception {
    daemon.close();
    nginx.close();
  }

  private String proxied(String path) {
    return daemon.proxyUrl(nginx.url(path));
  }

  static Played play(List<String> command, String... env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD);
    for (int i = 0; i + 1 < env.length; i += 2) {
      pb.environment().put(env[i], env[i + 1]);
    }
    Process p = pb.start();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finishes", command.get(0)).isTrue();
    return new Played(p.exitValue(), err);
  }

  static List<String> mpv(String url) {
    return List.of("mpv", "--no-config", "--vo=null", "--ao=null", "--start=20", "--length=3", url);
  }

  static List<String> ffplay(String url) {
    return List.of("ffplay", "-v", "error", "-nodisp", "-autoexit", "-ss", "20", "-t", "3", url);
  }

  static List<String> vlc(String url) throws Exception {
    List<String> command = new ArrayList<>();
    if (DaemonEndToEndIT.run(10, "id", "-u").trim().equals("0")) {
      command.addAll(List.of("runuser", "-u", "nobody", "--")); // cvlc refuses to run as root
    }
    command.addAll(List.of("cvlc", "--intf", "dummy", "--vout", "dummy", "--aout", "dummy", "--play-and-exit",
        "--start-time", "20", "--stop-time", "23", url));
    return command;
  }

  /** VLC's input, stream, demux or decoder errors (its interface modules complain without a desktop). */
  static List<String> vlcErrors(String err) {
    return err.lines().filter(l -> l.contains(" error:") && !l.contains("interface")
        && !l.contains("globalhotkeys")).toList();
  }

  private JsonNode cached(String path) throws Exception {
    String json = CacheCommandsIT.cli("ls", "--json", "--cache-dir", cacheDir.toString()).out();
    for (JsonNode e : new ObjectMapper().readTree(json)) {
      if (e.get("url").asText().equals(nginx.url(path))) {
        return e;
      }
    }
    return null;
  }

  @Test
  void mpvPlaysAnMp4AndAnHlsStreamFromTwentySeconds() throws Exception {
    assertThat(play(mpv(proxied("/video.mp4"))).exit()).isZero();
    assertThat(play(mpv(proxied("/hls/master.m3u8"))).exit()).isZero();
    assertThat(cached("/hls/seg005.ts")).as("segment at 20 s came through the cache").isNotNull();
  }

  @Test
  void ffplayPlaysAnMp4AndAnHlsStreamFromTwentySeconds() throws Exception {
    for (String path : List.of("/video.mp4", "/hls/master.m3u8")) {
      Played played = play(ffplay(proxied(path)), "SDL_AUDIODRIVER", "dummy");
      assertThat(played.exit()).isZero();
      assertThat(played.err()).as("ffplay errors for %s", path).isBlank();
    }
    assertThat(cached("/video.mp4").get("cachedBytes").asLong()).isPositive();
    assertThat(play(ffplay(proxied("/missing.mp4")), "SDL_AUDIODRIVER", "dummy").err())
        .as("a failure is visible, so the checks above can fail").contains("404");
  }

  @Test
  void vlcPlaysAnMp4AndAnHlsStreamFromTwentySeconds() throws Exception {
    for (String path : List.of("/video.mp4", "/hls/master.m3u8")) {
      Played played = play(vlc(proxied(path)));
      assertThat(played.exit()).isZero();
      assertThat(vlcErrors(played.err())).as("VLC errors for %s", path).isEmpty();
    }
    assertThat(cached("/hls/index.m3u8")).isNotNull();
    assertThat(vlcErrors(play(vlc(proxied("/missing.mp4"))).err()))
        .as("a failure is visible, so the checks above can fail").isNotEmpty();
  }
}
