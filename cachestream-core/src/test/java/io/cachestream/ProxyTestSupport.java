package io.cachestream;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** A fake origin, a manager started on a free port over a temporary cache dir, and a client: torn down after each test. */
abstract class ProxyTestSupport {
  @TempDir Path dir;
  RangeOrigin origin;
  CacheStreamManager manager;
  final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void startOrigin() throws IOException {
    origin = new RangeOrigin();
  }

  @AfterEach
  void stopAll() throws IOException {
    if (manager != null) {
      manager.close();
    }
    origin.close();
  }

  CacheStreamManager start(CacheConfig.Builder config) throws IOException {
    manager = CacheStreamManager.start(config.port(0).cacheDir(dir.resolve("cache")).build());
    return manager;
  }

  /** A GET of {@code source} through the proxy, with a {@code Range} header unless {@code range} is null. */
  HttpResponse<byte[]> get(URI source, String range) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(manager.cacheUrl(source)).timeout(Duration.ofSeconds(30));
    if (range != null) {
      b.header("Range", range);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }
}
