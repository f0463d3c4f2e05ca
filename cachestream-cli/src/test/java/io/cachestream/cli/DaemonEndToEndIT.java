package io.cachestream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real daemon ({@code bin/cachestream serve}) in front of a real nginx origin, driven by real clients: curl,
 * ffprobe and ffmpeg.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DaemonEndToEndIT {
  private static final List<String> RANGES = List.of("", "bytes=0-", "bytes=0-0", "bytes=0-99", "bytes=-100",
      "bytes=1000-", "bytes=1048000-", "bytes=1048000-2000000", "bytes=-2000000", "bytes=524288-524288",
      "bytes=abc", "bytes=5-2", "bytes=99999999999999999999-", "bytes=1048576-", "bytes=-0", "items=0-5");
  private static final int FILE_SIZE = 1 << 20;

  @TempDir static Path tmp;
  NginxOrigin nginx;
  Daemon daemon;
  Path video;

  @BeforeAll
  void startOriginAndDaemon() throws Exception {
    nginx = new NginxOrigin(tmp.resolve("nginx"));
    byte[] data = new byte[FILE_SIZE];
    new Random(42).nextBytes(data);
    for (int i = 0; i < RANGES.size(); i++) {
      Files.write(nginx.www.resolve("cold-" + i + ".bin"), data);
    }
    Files.write(nginx.www.resolve("warm.bin"), data);
    byte[] big = new byte[24 << 20];
    new Random(7).nextBytes(big);
    Files.write(nginx.www.resolve("big.bin"), big);
    video = nginx.www.resolve("video.mp4");
    run(60, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=40:size=320x240:rate=25", "-f", "lavfi",
        "-i", "sine=duration=40", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-c:a", "aac",
        "-movflags", "+faststart", "-y", video.toString());
    Files.copy(video, nginx.www.resolve("offline.mp4"));
    Files.copy(video, nginx.www.resolve("cold.mp4"));
    daemon = Daemon.start(tmp.resolve("cache"));
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

  @Test
  void rangeAnswersMatchNginxServingTheFileDirectlyColdAndWarm() throws Exception {
    for (int i = 0; i < RANGES.size(); i++) {
      String range = RANGES.get(i);
      Curl direct = curl(nginx.url("/cold-" + i + ".bin"), range);
      Curl cold = curl(daemon.proxyUrl(nginx.url("/cold-" + i + ".bin")), range);
      Curl warm = curl(daemon.proxyUrl(nginx.url("/cold-" + i + ".bin")), range);
      for (Curl proxied : List.of(cold, warm)) {
        assertThat(proxied.status).as("status for Range '%s'", range).isEqualTo(direct.status);
        assertThat(proxied.header("content-range")).as("Content-Range for '%s'", range)
            .isEqualTo(direct.header("content-range"));
        if (direct.status != 416) {
          assertThat(proxied.body).as("body for Range '%s'", range).isEqualTo(direct.body);
          assertThat(proxied.header("etag")).isEqualTo(direct.header("etag"));
          assertThat(proxied.header("last-modified")).isEqualTo(direct.header("last-modified"));
        }
      }
    }
  }

  @Test
  void ffprobeAndAnFfmpegSeekThroughTheProxyEqualTheOriginColdAndWarm() throws Exception {
    String direct = nginx.url("/cold.mp4");
    String proxied = daemon.proxyUrl(direct);
    String expectedFrame = run(60, "ffmpeg", "-v", "error", "-ss", "30", "-i", direct, "-frames:v", "1", "-f",
        "framemd5", "-");
    assertThat(expectedFrame).contains("0,");
    String probe = run(60, "ffprobe", "-v", "error", "-show_entries", "format=duration,size:stream=codec_name",
        "-of", "csv=p=0", proxied);
    assertThat(probe).isEqualTo(run(60, "ffprobe", "-v", "error", "-show_entries",
        "format=duration,size:stream=codec_name", "-of", "csv=p=0", direct));
    for (int pass = 0; pass < 2; pass++) {
      String frame = run(60, "ffmpeg", "-v", "error", "-ss", "30", "-i", proxied, "-frames:v", "1", "-f",
          "framemd5", "-");
      assertThat(frame).as("pass %d", pass).isEqualTo(expectedFrame);
    }
  }

  @Test
  void eightConcurrentColdClientsShareOneOriginDownload() throws Exception {
    String url = daemon.proxyUrl(nginx.url("/slow/big.bin"));
    List<Process> clients = new ArrayList<>();
    List<Path> outputs = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      Path out = tmp.resolve("client-" + i);
      outputs.add(out);
      clients.add(new ProcessBuilder("curl", "-s", "-f", "-o", out.toString(), url).redirectErrorStream(true)
          .start());
    }
    for (Process p : clients) {
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).isZero();
    }
    String expected = sha256(nginx.www.resolve("big.bin"));
    for (Path out : outputs) {
      assertThat(sha256(out)).isEqualTo(expected);
    }
    long size = Files.size(nginx.www.resolve("big.bin"));
    long sent = awaitLogged("/slow/big.bin", size);
    assertThat(sent).isGreaterThanOrEqualTo(size).isLessThanOrEqualTo((long) (size * 1.05));
  }

  @Test
  void aCompletedDownloadPlaysWithTheOriginStopped() throws Exception {
    try (NginxOrigin own = new NginxOrigin(tmp.resolve("nginx-offline"))) {
      Files.copy(video, own.www.resolve("offline.mp4"));
      String direct = own.url("/offline.mp4");
      String expectedFrame = run(60, "ffmpeg", "-v", "error", "-ss", "30", "-i", direct, "-frames:v", "1", "-f",
          "framemd5", "-");
      Curl full = curl(daemon.proxyUrl(direct), "");
      assertThat(full.body).isEqualTo(Files.readAllBytes(video));
      own.stop();
      String frame = run(60, "ffmpeg", "-v", "error", "-ss", "30", "-i", daemon.proxyUrl(direct), "-frames:v", "1",
          "-f", "framemd5", "-");
      assertThat(frame).isEqualTo(expectedFrame);
    }
  }

  @Test
  void aSecondDaemonOnTheSameCacheDirExitsWithAClearMessage() throws Exception {
    Process second = new ProcessBuilder(Daemon.REPO.resolve("bin/cachestream").toString(), "serve", "--port", "0",
        "--cache-dir", tmp.resolve("cache").toString()).start();
    assertThat(second.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(second.exitValue()).isNotZero();
    assertThat(new String(second.getErrorStream().readAllBytes(), StandardCharsets.UTF_8))
        .contains("in use by another CacheStream process");
  }

  @Test
  void sigtermCheckpointsAndExitsZero() throws Exception {
    Daemon own = Daemon.start(tmp.resolve("cache-sigterm"));
    Curl warmup = curl(own.proxyUrl(nginx.url("/warm.bin")), "bytes=0-99");
    assertThat(warmup.status).isEqualTo(206);
    assertThat(own.terminate()).isZero();
  }

  @Test
  void resumesAfterRepeatedCrashesWithoutRefetchingCheckpointedBytes() throws Exception {
    Path cache = tmp.resolve("cache-crash");
    String url = nginx.url("/slower/crash.bin");
    Files.copy(nginx.www.resolve("big.bin"), nginx.www.resolve("crash.bin"));
    long size = Files.size(nginx.www.resolve("crash.bin"));
    Random random = new Random(1);
    int crashes = 20;
    for (int i = 0; i < crashes; i++) {
      Daemon victim = Daemon.start(cache);
      Process reader = new ProcessBuilder("curl", "-s", "-o", "/dev/null", victim.proxyUrl(url)).start();
      NginxOrigin.sleep(100 + random.nextInt(400));
      victim.kill();
      reader.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    try (Daemon survivor = Daemon.start(cache)) {
      Curl full = curl(survivor.proxyUrl(url), "");
      assertThat(full.status).isEqualTo(200);
      assertThat(sha256(full.body)).isEqualTo(sha256(nginx.www.resolve("crash.bin")));
    }
    // One checkpoint interval per crash: 1 s of download at the location's 2 MB/s (its 16 MiB byte threshold is never
    // reached first), plus 1 MiB for what was in flight.
    long perCrash = 2_000_000 + (1 << 20);
    long sent = awaitLogged("/slower/crash.bin", size);
    assertThat(sent).isLessThanOrEqualTo(size + crashes * perCrash);
  }

  @Test
  void aFullCacheDiskKeepsClientsStreamingFromTheOriginWithConsistentMeta() throws Exception {
    Path mount = Files.createDirectories(tmp.resolve("small-disk"));
    Assumptions.assumeTrue(run(10, "id", "-u").trim().equals("0"), "mounting a small tmpfs needs root (CI is root)");
    run(10, "mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mount.toString());
    try (Daemon small = Daemon.start(mount.resolve("cache"))) {
      String url = small.proxyUrl(nginx.url("/slow/big.bin"));
      String expected = sha256(nginx.www.resolve("big.bin"));
      assertThat(sha256(curl(url, "").body)).isEqualTo(expected);
      assertThat(sha256(curl(url, "").body)).isEqualTo(expected);
      assertThat(small.stderr.toString().lines().filter(l -> l.contains("cannot store"))).hasSize(1);
      assertThat(small.terminate()).isZero();
      // Meta claims only bytes that are really in the data file, and they are the origin's bytes.
      try (var metas = Files.walk(mount.resolve("cache/entries"))) {
        for (Path meta : metas.filter(p -> p.getFileName().toString().equals("meta.json")).toList()) {
          var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(meta.toFile());
          byte[] data = Files.readAllBytes(meta.resolveSibling("data"));
          byte[] origin = Files.readAllBytes(nginx.www.resolve("big.bin"));
          for (var range : json.get("ranges")) {
            int start = range.get(0).asInt();
            int end = range.get(1).asInt();
            assertThat(end).isLessThanOrEqualTo(data.length);
            assertThat(java.util.Arrays.equals(data, start, end, origin, start, end)).isTrue();
          }
        }
      }
    } finally {
      new ProcessBuilder("umount", "-l", mount.toString()).start().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aCacheDirThatCannotBeCreatedIsAClearErrorAndANonZeroExit() throws Exception {
    Path file = Files.writeString(tmp.resolve("plain-file"), "not a directory");
    Process p = new ProcessBuilder(Daemon.REPO.resolve("bin/cachestream").toString(), "serve", "--port", "0",
        "--cache-dir", file.resolve("cache").toString()).start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isNotZero();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(err).startsWith("cachestream: cannot create cache dir").doesNotContain("Exception");
    assertThat(err.lines()).hasSize(1);
  }

  private long awaitLogged(String uri, long atLeast) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    long sent = nginx.bytesSent(uri);
    while (sent < atLeast && System.nanoTime() < deadline) {
      NginxOrigin.sleep(50);
      sent = nginx.bytesSent(uri);
    }
    return sent;
  }

  record Curl(int status, List<String> headers, byte[] body) {
    String header(String name) {
      for (String h : headers) {
        int colon = h.indexOf(':');
        if (colon > 0 && h.substring(0, colon).trim().equalsIgnoreCase(name)) {
          return h.substring(colon + 1).trim();
        }
      }
      return null;
    }
  }

  private Curl curl(String url, String range) throws Exception {
    Path headers = Files.createTempFile(tmp, "h", ".txt");
    Path body = Files.createTempFile(tmp, "b", ".bin");
    List<String> cmd = new ArrayList<>(List.of("curl", "-s", "--path-as-is", "-D", headers.toString(), "-o",
        body.toString()));
    if (!range.isEmpty()) {
      cmd.addAll(List.of("-H", "Range: " + range));
    }
    cmd.add(url);
    run(60, cmd.toArray(String[]::new));
    List<String> lines = Files.readAllLines(headers, StandardCharsets.ISO_8859_1);
    int status = Integer.parseInt(lines.get(0).split(" ")[1]);
    return new Curl(status, lines, Files.readAllBytes(body));
  }

  /** Runs a command, fails on non-zero exit, returns stdout. */
  static String run(int timeoutSeconds, String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(timeoutSeconds, TimeUnit.SECONDS)).as("%s finishes", command[0]).isTrue();
    assertThat(p.exitValue()).as("exit code of %s", String.join(" ", command)).isZero();
    return new String(out, StandardCharsets.UTF_8);
  }

  static String sha256(Path file) throws IOException {
    return sha256(Files.readAllBytes(file));
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
