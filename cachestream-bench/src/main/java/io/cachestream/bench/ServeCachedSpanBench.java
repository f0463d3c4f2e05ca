package io.cachestream.bench;

import com.sun.net.httpserver.HttpServer;
import io.cachestream.CacheConfig;
import io.cachestream.CacheStreamManager;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Serving a cached span end to end on loopback: a started {@link CacheStreamManager} (port 0, temp cache dir)
 * holding a pre-cached 1 MiB file from a tiny in-process origin, and a {@link HttpClient} GET of it (whole, or a
 * 64 KiB range) through the proxy. The origin sees no request while measuring: the setup checks it.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class ServeCachedSpanBench {
  static final int SIZE = 1 << 20;

  private HttpServer origin;
  private Path cacheDir;
  private CacheStreamManager manager;
  private HttpClient client;
  private HttpRequest whole;
  private HttpRequest range;
  private volatile int originRequests;

  @Setup(Level.Trial)
  public void setup() throws Exception {
    byte[] body = new byte[SIZE];
    new SplittableRandom(7).nextBytes(body);
    origin = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    origin.createContext("/file.bin", exchange -> {
      originRequests++;
      exchange.getResponseHeaders().add("Content-Type", "application/octet-stream");
      exchange.getResponseHeaders().add("ETag", "\"bench-1\"");
      // Ignores Range: the engine then reads from byte 0 and keeps what it needs.
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    origin.start();
    cacheDir = Files.createTempDirectory("cachestream-jmh");
    manager = CacheStreamManager.start(CacheConfig.builder().port(0).cacheDir(cacheDir).build());
    URI source = URI.create("http://127.0.0.1:" + origin.getAddress().getPort() + "/file.bin");
    manager.preCache(source).get(30, TimeUnit.SECONDS);
    URI cacheUrl = manager.cacheUrl(source);
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
        .build();
    whole = HttpRequest.newBuilder(cacheUrl).GET().build();
    range = HttpRequest.newBuilder(cacheUrl).header("Range", "bytes=524288-589823").GET().build();
    int before = originRequests;
    HttpResponse<byte[]> check = client.send(whole, HttpResponse.BodyHandlers.ofByteArray());
    if (check.statusCode() / 100 != 2 || check.body().length != SIZE || originRequests != before) {
      throw new IllegalStateException("proxy did not serve the cached file: " + check.statusCode() + ", "
          + check.body().length + " bytes, origin requests " + before + " -> " + originRequests);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    if (manager != null) {
      manager.close();
    }
    if (origin != null) {
      origin.stop(0);
    }
    if (cacheDir != null) {
      ScenarioBench.deleteTree(cacheDir);
    }
  }

  /** GET of the whole cached 1 MiB file (206 or 200), body discarded. */
  @Benchmark
  public int getWhole1MiB() throws Exception {
    return client.send(whole, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  /** GET of a 64 KiB cached span. */
  @Benchmark
  public int getRange64KiB() throws Exception {
    return client.send(range, HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
