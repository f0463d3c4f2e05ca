package io.cachestream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The stream cache end to end in one JVM: real Netty server, real OkHttp upstream, fake origin on loopback. */
@Timeout(60)
class StreamCacheTest extends ProxyTestSupport {
  @Test
  void streamsWhileDownloadingAndServesTheNextPlayFromCacheWithOriginGone() throws Exception {
    byte[] content = RangeOrigin.randomBytes(3 << 20, 1);
    origin.file("/v.mp4", content).throttle(256 * 1024, 20);
    start(CacheConfig.builder());
    URI source = origin.uri("/v.mp4");

    HttpResponse<byte[]> first = get(source, null);
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.headers().firstValue("Content-Type")).hasValue("video/mp4");
    assertThat(first.headers().firstValue("Accept-Ranges")).hasValue("bytes");
    assertThat(first.body()).isEqualTo(content);

    origin.close();
    HttpResponse<byte[]> again = get(source, "bytes=1000-")
        ;
    assertThat(again.statusCode()).isEqualTo(206);
    assertThat(again.body()).isEqualTo(Arrays.copyOfRange(content, 1000, content.length));
    CacheMetadata meta = manager.metadata(source).orElseThrow();
    assertThat(meta.complete()).isTrue();
    assertThat(meta.length()).isEqualTo(content.length);
    assertThat(Files.size(meta.dataFile())).isEqualTo(content.length);
  }

  @Test
  void mappedTransfersServeTheSameBytesAsSendfile() throws Exception {
    byte[] content = RangeOrigin.randomBytes(9 << 20, 7);
    origin.file("/mapped.bin", content);
    start(CacheConfig.builder().transferMode(TransferMode.MMAP));
    URI source = origin.uri("/mapped.bin");
    assertThat(get(source, null).body()).isEqualTo(content); // cold: windows mapped again as the file grows
    assertThat(get(source, null).body()).isEqualTo(content); // hot
    assertThat(get(source, "bytes=5000000-").body()).isEqualTo(Arrays.copyOfRange(content, 5_000_000, content.length));
  }

  @Test
  void longHotBodiesGoOutFromAMappingKeptUntilTheResourceGoesIdleAndShortOnesAsFileRegions() throws Exception {
    assumeTrue(Files.isReadable(Path.of("/proc/self/maps")), "needs /proc/self/maps to see the mappings");
    byte[] big = RangeOrigin.randomBytes(20 << 20, 8);
    byte[] small = RangeOrigin.randomBytes(1 << 20, 9);
    origin.file("/long.bin", big);
    origin.file("/short.bin", small);
    start(CacheConfig.builder().lifecycle(new StreamLifecycle(Duration.ofSeconds(2), Duration.ofMinutes(5))));
    URI longSource = origin.uri("/long.bin");
    URI shortSource = origin.uri("/short.bin");

    assertThat(get(longSource, null).body()).isEqualTo(big); // cold: bytes still arriving go out as file regions
    Path longData = manager.metadata(longSource).orElseThrow().dataFile();
    assertThat(mapsOf(longData)).isFalse();
    assertThat(get(longSource, null).body()).isEqualTo(big); // hot and at least 16 MiB: from the mapping
    assertThat(get(longSource, "bytes=3000000-").body()).isEqualTo(Arrays.copyOfRange(big, 3_000_000, big.length));
    assertThat(mapsOf(longData)).isTrue();
    assertThat(get(shortSource, null).body()).isEqualTo(small);
    assertThat(get(shortSource, null).body()).isEqualTo(small); // hot but short: file regions
    assertThat(mapsOf(manager.metadata(shortSource).orElseThrow().dataFile())).isFalse();

    for (int i = 0; i < 100 && mapsOf(longData); i++) {
      Thread.sleep(100); // until the resource pauses, 2 s after its last client left
    }
    assertThat(mapsOf(longData)).as("unmapped once idle").isFalse();
    assertThat(get(longSource, "bytes=19000000-").body()).isEqualTo(Arrays.copyOfRange(big, 19_000_000, big.length));
  }

  /** True if this process maps {@code file} (the test and the server share the process). */
  private static boolean mapsOf(Path file) throws IOException {
    return Files.readAllLines(Path.of("/proc/self/maps")).stream().anyMatch(l -> l.endsWith(file.toString()));
  }

  @Test
  void concurrentClientsShareOneDownload() throws Exception {
    byte[] content = RangeOrigin.randomBytes(2 << 20, 2);
    origin.file("/shared.bin", content).throttle(128 * 1024, 20);
    start(CacheConfig.builder());
    URI source = origin.uri("/shared.bin");
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<HttpResponse<byte[]>>> responses = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        responses.add(pool.submit(() -> get(source, null)));
      }
      for (Future<HttpResponse<byte[]>> r : responses) {
        assertThat(r.get(30, TimeUnit.SECONDS).body()).isEqualTo(content);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(origin.bodyBytesSent.get()).isLessThanOrEqualTo((long) (content.length * 1.05));
  }

  @Test
  void farSeekOpensItsOwnRangeDownloadWhoseBytesAreCached() throws Exception {
    byte[] content = RangeOrigin.randomBytes(16 << 20, 3);
    origin.file("/big.bin", content).throttle(64 * 1024, 50); // ~1.3 MB/s: the sequential download is far behind
    start(CacheConfig.builder());
    URI source = origin.uri("/big.bin");

    try (CacheStream stream = manager.stream(source)) {
      stream.download();
      long start = 12_000_000;
      HttpResponse<byte[]> seek = get(source, "bytes=" + start + "-" + (start + 99_999));
      assertThat(seek.statusCode()).isEqualTo(206);
      assertThat(seek.headers().firstValue("Content-Range")).hasValue(
          "bytes 12000000-12099999/" + content.length);
      assertThat(seek.body()).isEqualTo(Arrays.copyOfRange(content, (int) start, (int) start + 100_000));
      assertThat(origin.requestsFor("/big.bin"))
          .anySatisfy(r -> assertThat(r.getHeaders().get("Range")).isEqualTo("bytes=12000000-"));
      assertThat(stream.state().ranges()).anySatisfy(r -> {
        assertThat(r.start()).isEqualTo(start);
        assertThat(r.end()).isGreaterThanOrEqualTo(start + 100_000);
      });
    }
  }

  @Test
  void seekWithinTheSplitThresholdOfASlowDownloadOpensItsOwnRangeRatherThanWaiting() throws Exception {
    byte[] content = RangeOrigin.randomBytes(8 << 20, 5);
    origin.file("/slow.bin", content).throttle(64 * 1024, 50); // ~1.3 MB/s
    start(CacheConfig.builder()); // the default threshold, 2 MiB
    URI source = origin.uri("/slow.bin");

    try (CacheStream stream = manager.stream(source)) {
      stream.download();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (stream.state().cachedBytes() < 128 * 1024 && System.nanoTime() < deadline) {
        Thread.sleep(10); // until the download's speed is measured
      }
      // Within 2 MiB of the download, and about a second away at its speed: a fresh request gets there sooner.
      long start = 1_500_000;
      HttpResponse<byte[]> seek = get(source, "bytes=" + start + "-" + (start + 99_999));
      assertThat(seek.statusCode()).isEqualTo(206);
      assertThat(seek.body()).isEqualTo(Arrays.copyOfRange(content, (int) start, (int) start + 100_000));
      assertThat(origin.requestsFor("/slow.bin"))
          .anySatisfy(r -> assertThat(r.getHeaders().get("Range")).isEqualTo("bytes=1500000-"));
    }
  }

  @Test
  void originErrorsPassThroughAndCacheNothing() throws Exception {
    origin.override("/missing", r -> new MockResponse.Builder().code(404)
        .addHeader("Content-Type", "text/plain").body("gone fishing").build());
    start(CacheConfig.builder());
    URI source = origin.uri("/missing");

    HttpResponse<byte[]> first = get(source, null);
    assertThat(first.statusCode()).isEqualTo(404);
    assertThat(new String(first.body(), StandardCharsets.UTF_8)).isEqualTo("gone fishing");
    HttpResponse<byte[]> second = get(source, "bytes=0-");
    assertThat(second.statusCode()).isEqualTo(404);
    assertThat(origin.requestsFor("/missing")).hasSize(2);
    assertThat(manager.metadata(source)).isEmpty();
    assertThat(dir.resolve("cache/entries")).as("not even an empty entry directory").isEmptyDirectory();
  }

  @Test
  void anAbsurdRangeOnAColdResourceIsUnsatisfiableWithTheLength() throws Exception {
    origin.file("/cold.bin", RangeOrigin.randomBytes(1000, 9));
    start(CacheConfig.builder());
    HttpResponse<byte[]> response = get(origin.uri("/cold.bin"), "bytes=99999999999999999999-");
    assertThat(response.statusCode()).isEqualTo(416);
    assertThat(response.headers().firstValue("Content-Range")).hasValue("bytes */1000");
  }

  @Test
  void rejectsA206WhoseContentRangeDiffersFromTheRequest() throws Exception {
    origin.override("/liar", r -> new MockResponse.Builder().code(206)
        .addHeader("Content-Range", "bytes 0-9/10").body("0123456789").build());
    start(CacheConfig.builder());

    HttpResponse<byte[]> response = get(origin.uri("/liar"), "bytes=5-");
    assertThat(response.statusCode()).isEqualTo(502);
    assertThat(new String(response.body(), StandardCharsets.UTF_8)).contains("Content-Range");
    assertThat(manager.metadata(origin.uri("/liar")).map(CacheMetadata::cachedBytes).orElse(0L)).isZero();
  }

  @Test
  void headOfAnUncachedResourceCostsTheOriginAHeadNotADownload() throws Exception {
    origin.file("/h.bin", RangeOrigin.randomBytes(100_000, 4));
    start(CacheConfig.builder());
    HttpResponse<Void> head = client.send(HttpRequest.newBuilder(manager.cacheUrl(origin.uri("/h.bin")))
        .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.headers().firstValueAsLong("Content-Length")).hasValue(100_000);
    assertThat(origin.requestsFor("/h.bin")).extracting(r -> r.getMethod()).containsExactly("HEAD");
    assertThat(origin.bodyBytesSent.get()).isZero();
  }

  @Test
  void unreachableOriginIsABadGatewayWithAReason() throws Exception {
    start(CacheConfig.builder());
    int deadPort;
    try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      deadPort = s.getLocalPort();
    }
    HttpResponse<byte[]> response = get(URI.create("http://127.0.0.1:" + deadPort + "/x"), null);
    assertThat(response.statusCode()).isEqualTo(502);
    assertThat(new String(response.body(), StandardCharsets.UTF_8)).startsWith("origin failed:");
    assertThat(get(URI.create("http://127.0.0.1:" + deadPort + "/x"), null).statusCode()).isEqualTo(502);
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() throws Exception {
    byte[] a = RangeOrigin.randomBytes(300_000, 5);
    byte[] b = "second".getBytes(StandardCharsets.US_ASCII);
    origin.file("/a", a).file("/b", b);
    start(CacheConfig.builder());
    String pathA = manager.cacheUrl(origin.uri("/a")).getRawPath();
    String pathB = manager.cacheUrl(origin.uri("/b")).getRawPath();
    String requests = "GET " + pathA + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        + "GET " + pathB + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    byte[] all = exchangeRaw(requests.getBytes(StandardCharsets.US_ASCII));
    String text = new String(all, StandardCharsets.ISO_8859_1);
    int firstHead = text.indexOf("HTTP/1.1 200");
    int secondHead = text.indexOf("HTTP/1.1 200", firstHead + 1);
    assertThat(firstHead).isZero();
    assertThat(secondHead).isGreaterThan(a.length);
    assertThat(text).endsWith("second");
  }

  @Test
  void badRequestsGetPreciseErrorsAndTheServerKeepsServing() throws Exception {
    origin.file("/ok", "fine".getBytes(StandardCharsets.US_ASCII));
    start(CacheConfig.builder());
    assertThat(rawStatus("GET /ftp/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).isEqualTo(400);
    assertThat(rawStatus("GET /http/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).isEqualTo(400);
    assertThat(rawStatus("GET /http/host:99999/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).isEqualTo(400);
    assertThat(rawStatus("GET /https/%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).isEqualTo(400);
    assertThat(rawStatus("GET /http/h/a/../b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).isEqualTo(400);
    assertThat(rawStatus("GET /http/h/x HTTP/1.1\r\nHost: evil.example\r\n\r\n")).isEqualTo(403);
    assertThat(rawStatus("DELETE /http/h/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).isEqualTo(405);
    assertThat(rawStatus("GET /" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).isEqualTo(414);
    assertThat(rawStatus("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "b".repeat(64 * 1024)
        + "\r\n\r\n")).isEqualTo(431);
    String path = manager.cacheUrl(origin.uri("/ok")).getRawPath();
    StringBuilder manyRanges = new StringBuilder("bytes=0-0");
    for (int i = 1; i < 1000; i++) {
      manyRanges.append(',').append(i * 2).append('-').append(i * 2);
    }
    assertThat(rawStatus("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: " + manyRanges + "\r\n\r\n"))
        .isEqualTo(200);
    assertThat(rawStatus("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=abc\r\n\r\n"))
        .isEqualTo(416);
    assertThat(get(origin.uri("/ok"), null).body()).isEqualTo("fine".getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void clientLeavingMidBodyLeavesTheSharedDownloadToTheOthers() throws Exception {
    byte[] content = RangeOrigin.randomBytes(2 << 20, 6);
    origin.file("/leave.bin", content).throttle(128 * 1024, 20);
    start(CacheConfig.builder());
    URI cacheUrl = manager.cacheUrl(origin.uri("/leave.bin"));
    try (Socket quitter = new Socket("127.0.0.1", cacheUrl.getPort())) {
      quitter.getOutputStream().write(("GET " + cacheUrl.getRawPath() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      quitter.getInputStream().readNBytes(100_000);
    }
    assertThat(get(origin.uri("/leave.bin"), null).body()).isEqualTo(content);
    assertThat(origin.bodyBytesSent.get()).isLessThanOrEqualTo((long) (content.length * 1.05));
  }

  private int rawStatus(String request) throws IOException {
    byte[] response = exchangeRaw(request.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")
        .getBytes(StandardCharsets.ISO_8859_1));
    String text = new String(response, 0, Math.min(response.length, 200), StandardCharsets.ISO_8859_1);
    assertThat(text).startsWith("HTTP/1.1 ");
    return Integer.parseInt(text.substring(9, 12));
  }

  private byte[] exchangeRaw(byte[] request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", manager.baseUrl().getPort())) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      out.write(request);
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      in.transferTo(all);
      return all.toByteArray();
    }
  }
}
