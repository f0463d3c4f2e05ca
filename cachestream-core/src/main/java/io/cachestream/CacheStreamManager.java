package io.cachestream;

import io.cachestream.engine.Engine;
import io.cachestream.engine.Resource;
import io.cachestream.server.ProxyServer;
import io.cachestream.server.UrlMapping;
import io.cachestream.store.CacheStore;
import io.cachestream.store.EntryMeta;
import java.io.IOException;
import java.net.URI;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The entry point (the seed's {@code HttpCacheManager}): owns the cache directory and the local server.
 *
 * <pre>{@code
 * try (CacheStreamManager manager = CacheStreamManager.start(CacheConfig.builder().build())) {
 *   URI playable = manager.cacheUrl(URI.create("https://example.com/video.mp4"));
 *   // give playable to any player
 * }
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class CacheStreamManager implements AutoCloseable {
  private final CacheConfig config;
  private final CacheStore store;
  private final Engine engine;
  private final ProxyServer server;
  private final String apiToken;

  private CacheStreamManager(CacheConfig config, CacheStore store, Engine engine, ProxyServer server, String token) {
    this.config = config;
    this.store = store;
    this.engine = engine;
    this.server = server;
    this.apiToken = token;
  }

  /**
   * Opens the cache directory (taking its lock) and starts the local server.
   *
   * @throws IOException if the server cannot bind its address
   * @throws CacheStore.CacheDirException if the cache directory cannot be used or another process holds it
   */
  public static CacheStreamManager start(CacheConfig config) throws IOException {
    Objects.requireNonNull(config, "config");
    CacheStore store = CacheStore.open(config.cacheDir());
    Engine engine = new Engine(config, store);
    String token = config.apiToken() != null ? config.apiToken() : randomToken();
    try {
      ProxyServer server = ProxyServer.start(engine, token, config.apis());
      return new CacheStreamManager(config, store, engine, server, token);
    } catch (IOException | RuntimeException e) {
      engine.close();
      store.close();
      throw e;
    }
  }

  private static String randomToken() {
    byte[] bytes = new byte[16];
    new SecureRandom().nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  public CacheConfig config() {
    return config;
  }

  /** The server's base URL with a trailing slash, for example {@code http://127.0.0.1:4612/}. */
  public URI baseUrl() {
    return URI.create(server.baseUrl() + "/");
  }

  /** The token mutating loopback API calls must carry ({@code Authorization: Bearer <token>}). */
  public String apiToken() {
    return apiToken;
  }

  /**
   * The local URL that plays {@code source} through the cache.
   *
   * @throws IllegalArgumentException if {@code source} is null, relative, not http(s), or has no host
   */
  public URI cacheUrl(URI source) {
    return UrlMapping.toCacheUrl(server.baseUrl(), source);
  }

  /**
   * A handle on {@code source}'s download and cache; hold it as long as you want the download to go on, then
   * {@link CacheStream#release()} it.
   *
   * @throws IOException if the entry's files cannot be opened
   */
  public CacheStream stream(URI source) throws IOException {
    UrlMapping.checkSource(source);
    return new CacheStream(engine.acquire(source), source);
  }

  /**
   * Downloads every byte of {@code source} into the cache; completes with its metadata, or exceptionally if
   * the download fails.
   */
  public CompletableFuture<CacheMetadata> preCache(URI source) throws IOException {
    CacheStream stream = stream(source);
    CompletableFuture<CacheMetadata> done = new CompletableFuture<>();
    stream.addListener(state -> {
      if (state.isComplete()) {
        done.complete(null);
      } else if (state.status() == CacheState.Status.IDLE) {
        done.completeExceptionally(new IOException("download of " + source + " stopped before its end"));
      }
    });
    stream.download();
    if (stream.state().isComplete()) {
      done.complete(null);
    }
    return done.handle((ignored, error) -> {
      stream.release();
      if (error != null) {
        throw new java.util.concurrent.CompletionException(error);
      }
      return metadata(source).orElseThrow();
    });
  }

  /** The metadata of {@code source}, as last checkpointed, if the cache has it. */
  public Optional<CacheMetadata> metadata(URI source) {
    UrlMapping.checkSource(source);
    String key = config.cacheKey(source);
    Resource live = engine.live(key);
    if (live != null) {
      live.checkpoint();
    }
    return store.readMeta(key).map(this::toMetadata);
  }

  /** Metadata of every entry in the cache. */
  public List<CacheMetadata> entries() {
    engine.liveResources().forEach(Resource::checkpoint);
    List<CacheMetadata> list = new ArrayList<>();
    for (EntryMeta meta : store.listMetas()) {
      list.add(toMetadata(meta));
    }
    return list;
  }

  private CacheMetadata toMetadata(EntryMeta meta) {
    List<ByteRange> ranges = new ArrayList<>();
    meta.ranges().forEach(r -> ranges.add(new ByteRange(r[0], r[1])));
    var dir = store.entryDir(meta.key());
    return new CacheMetadata(URI.create(meta.url()), meta.finalUrl(), meta.length(), meta.headers(), ranges,
        meta.cachedBytes(), meta.complete(), Instant.ofEpochMilli(meta.created()),
        Instant.ofEpochMilli(meta.lastAccess()), dir.resolve("data"), dir.resolve("meta.json"));
  }

  /** Stops the server and every download, checkpoints, and releases the cache directory. Idempotent. */
  @Override
  public void close() {
    server.close();
    engine.close();
    store.close();
  }
}
