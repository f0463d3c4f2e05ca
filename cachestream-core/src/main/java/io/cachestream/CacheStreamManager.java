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
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

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
    // The cache's own API answers through the manager, which exists only once the server is up.
    AtomicReference<CacheStreamManager> self = new AtomicReference<>();
    CacheApi cacheApi = new CacheApi(self::get);
    Map<String, LocalApi> apis = new HashMap<>(config.apis());
    apis.putIfAbsent("entries", cacheApi.entries());
    apis.putIfAbsent("precache", cacheApi.precache());
    try {
      ProxyServer server = ProxyServer.start(engine, token, apis);
      CacheStreamManager manager = new CacheStreamManager(config, store, engine, server, token);
      self.set(manager);
      return manager;
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
    return new CacheStream(engine, engine.acquire(source), source);
  }

  /**
   * Downloads every byte of {@code source} into the cache. Completes with its metadata, or exceptionally (with the
   * origin's error) if the download fails.
   *
   * @throws IllegalArgumentException if {@code source} is not an absolute http(s) URI
   * @throws IOException if the entry's files cannot be opened
   */
  public CompletableFuture<CacheMetadata> preCache(URI source) throws IOException {
    return preCacheHls(source, Long.MAX_VALUE);
  }

  /**
   * Pre-caches {@code source} whole; if it is an HLS playlist, also what playing it needs: for a master playlist,
   * the variant with the highest {@code BANDWIDTH} not above {@code maxBandwidth} (the lowest if none is), and for
   * a media playlist every segment, key and initialization section, so the stream then plays offline. Completes
   * with the metadata of {@code source} once everything is cached.
   *
   * @throws IllegalArgumentException if {@code maxBandwidth} is negative or {@code source} is not an absolute
   *     http(s) URI
   * @throws IOException if the entry's files cannot be opened
   */
  public CompletableFuture<CacheMetadata> preCacheHls(URI source, long maxBandwidth) throws IOException {
    if (maxBandwidth < 0) {
      throw new IllegalArgumentException("maxBandwidth must not be negative: " + maxBandwidth);
    }
    return preCache(source, Long.MAX_VALUE).thenCompose(meta -> HlsPreCache.follow(this, meta, maxBandwidth));
  }

  /**
   * Downloads only the first {@code maxBytes} of {@code source} (what short-video feeds need before a swipe);
   * completes with the metadata once they are cached.
   *
   * @throws IllegalArgumentException if {@code maxBytes} is negative or {@code source} is not an absolute http(s)
   *     URI
   * @throws IOException if the entry's files cannot be opened
   */
  public CompletableFuture<CacheMetadata> preCache(URI source, long maxBytes) throws IOException {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes must not be negative: " + maxBytes);
    }
    UrlMapping.checkSource(source);
    Resource resource = engine.acquire(source, false);
    int failuresBefore = resource.failures();
    CompletableFuture<CacheMetadata> done = new CompletableFuture<>();
    Consumer<Resource> progress = r -> {
      if (r.hasPrefix(maxBytes)) {
        done.complete(null);
      } else if (!r.isDownloading()) {
        if (r.storageFailure() != null) {
          done.completeExceptionally(r.storageFailure());
        } else if (r.failures() != failuresBefore) {
          done.completeExceptionally(r.lastFailure());
        } else {
          r.preload(maxBytes); // the last download stopped at cached bytes: go on with the next gap
        }
      }
    };
    resource.addListener(progress);
    resource.preload(maxBytes);
    progress.accept(resource);
    return done.handle((ignored, error) -> {
      resource.removeListener(progress);
      resource.release(false);
      if (error != null) {
        throw error instanceof CompletionException ce ? ce : new CompletionException(error);
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

  /** Which entries {@link #entries(EntryFilter)} lists. */
  public enum EntryFilter {
    /** Every entry. */
    ALL,
    /** Entries of streams in use: held by a client or a {@link CacheStream}. */
    ACTIVE,
    /** Entries nobody uses now. */
    INACTIVE
  }

  /** Metadata of every entry in the cache. */
  public List<CacheMetadata> entries() {
    return entries(EntryFilter.ALL);
  }

  /** Metadata of the entries that pass {@code filter}, least recently used first. */
  public List<CacheMetadata> entries(EntryFilter filter) {
    Objects.requireNonNull(filter, "filter");
    Set<String> active = new HashSet<>();
    for (Resource r : engine.liveResources()) {
      r.checkpoint();
      if (!r.isIdle()) {
        active.add(r.key());
      }
    }
    List<CacheMetadata> list = new ArrayList<>();
    for (EntryMeta meta : store.listMetas()) {
      boolean isActive = active.contains(meta.key());
      if (filter == EntryFilter.ALL || (filter == EntryFilter.ACTIVE) == isActive) {
        list.add(toMetadata(meta));
      }
    }
    list.sort(Comparator.comparing(CacheMetadata::lastAccess));
    return list;
  }

  /** True if a client or a {@link CacheStream} uses {@code source} now. */
  public boolean isActive(URI source) {
    UrlMapping.checkSource(source);
    Resource live = engine.live(config.cacheKey(source));
    return live != null && !live.isIdle();
  }

  /**
   * Deletes the cache entry of {@code source}.
   *
   * @return false if there was none
   * @throws IllegalStateException if the entry is in use
   * @throws IOException if its files cannot be deleted
   */
  public boolean delete(URI source) throws IOException {
    UrlMapping.checkSource(source);
    String key = config.cacheKey(source);
    boolean existed = store.readMeta(key).isPresent() || engine.live(key) != null;
    if (!engine.deleteIfIdle(key)) {
      throw new IllegalStateException("cache entry of " + source + " is in use");
    }
    return existed;
  }

  /**
   * Deletes every entry nobody uses now (the seed's {@code deleteCache}).
   *
   * @return how many entries were deleted
   * @throws IOException if files cannot be deleted
   */
  public int deleteInactive() throws IOException {
    int deleted = 0;
    for (EntryMeta meta : store.listMetas()) {
      if (engine.deleteIfIdle(meta.key())) {
        deleted++;
      }
    }
    return deleted;
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
