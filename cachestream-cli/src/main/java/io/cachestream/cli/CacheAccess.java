package io.cachestream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cachestream.CacheConfig;
import io.cachestream.CacheStreamManager;
import io.cachestream.files.DurableFiles;
import io.cachestream.store.CacheStore;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The cache of a {@code --cache-dir}, reached through its loopback API: the running daemon's when one holds the
 * directory (so commands never touch files under its feet), else a short-lived manager opened here on a free port.
 * One code path either way.
 */
final class CacheAccess implements AutoCloseable {
  static final String DAEMON_FILE = "daemon.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String baseUrl;
  private final String token;
  private final CacheStreamManager local;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private CacheAccess(String baseUrl, String token, CacheStreamManager local) {
    this.baseUrl = baseUrl;
    this.token = token;
    this.local = local;
  }

  static Path cacheDirOrDefault(Path cacheDir) {
    return cacheDir != null ? cacheDir : CacheConfig.defaultCacheDir();
  }

  /** Opens the cache of {@code cacheDir} (null: the default one). */
  static CacheAccess open(Path cacheDir) throws IOException {
    Path dir = cacheDirOrDefault(cacheDir);
    try {
      CacheStreamManager manager = CacheStreamManager.start(CacheConfig.builder().cacheDir(dir).port(0).build());
      return new CacheAccess(manager.baseUrl().toString().replaceAll("/$", ""), manager.apiToken(), manager);
    } catch (CacheStore.CacheDirException e) {
      Path daemonFile = dir.resolve(DAEMON_FILE);
      if (!e.getMessage().contains("in use") || !Files.exists(daemonFile)) {
        throw e;
      }
      JsonNode daemon = JSON.readTree(daemonFile.toFile());
      return new CacheAccess(daemon.get("baseUrl").asText(), daemon.get("token").asText(), null);
    }
  }

  /** Tells commands how to reach a daemon: written by {@code serve} once it listens, removed when it stops. */
  static void announce(Path cacheDir, CacheStreamManager manager) throws IOException {
    var node = JSON.createObjectNode()
        .put("pid", ProcessHandle.current().pid())
        .put("baseUrl", manager.baseUrl().toString().replaceAll("/$", ""))
        .put("token", manager.apiToken());
    new DurableFiles(true).write(cacheDir.resolve(DAEMON_FILE), JSON.writeValueAsBytes(node));
  }

  static void withdraw(Path cacheDir) {
    try {
      Files.deleteIfExists(cacheDir.resolve(DAEMON_FILE));
    } catch (IOException ignored) {
      // A stale file is harmless: the lock, not the file, says whether a daemon runs.
    }
  }

  /** Calls the API; returns the JSON answer or throws with the API's one-line error. */
  JsonNode call(String method, String pathAndQuery, JsonNode body) throws IOException {
    HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(baseUrl + pathAndQuery))
        .timeout(Duration.ofSeconds(60))
        .header("Authorization", "Bearer " + token)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
    HttpResponse<byte[]> response;
    try {
      response = http.send(rb.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
    JsonNode answer = response.body().length == 0 ? JSON.nullNode() : JSON.readTree(response.body());
    if (response.statusCode() >= 400) {
      String message = answer.hasNonNull("error") ? answer.get("error").asText() : "HTTP " + response.statusCode();
      throw new IOException(message);
    }
    return answer;
  }

  static ObjectMapper json() {
    return JSON;
  }

  @Override
  public void close() {
    if (local != null) {
      local.close();
    }
  }
}
