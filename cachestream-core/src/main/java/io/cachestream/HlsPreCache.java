package io.cachestream;

import io.cachestream.hls.Playlist;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** Pre-caching what an HLS playlist needs to play offline: one variant, then all its media. */
final class HlsPreCache {
  /** Media pre-cached at once: enough to hide round trips, few enough to keep files and connections low. */
  private static final int PARALLEL = 4;

  private HlsPreCache() {}

  /** Follows {@code meta} if it is a playlist; completes with {@code meta} once everything it needs is cached. */
  static CompletableFuture<CacheMetadata> follow(CacheStreamManager manager, CacheMetadata meta, long maxBandwidth) {
    Playlist playlist;
    try {
      playlist = read(meta);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (playlist == null) {
      return CompletableFuture.completedFuture(meta);
    }
    URI base = meta.finalUrl() != null ? URI.create(meta.finalUrl()) : meta.source();
    List<Playlist.Variant> variants = playlist.variants(base);
    if (!variants.isEmpty()) {
      Playlist.Variant chosen = variants.stream().filter(v -> v.bandwidth() <= maxBandwidth)
          .max(Comparator.comparingLong(Playlist.Variant::bandwidth))
          .orElseGet(() -> variants.stream().min(Comparator.comparingLong(Playlist.Variant::bandwidth)).get());
      return preCache(manager, chosen.uri()).thenCompose(v -> follow(manager, v, maxBandwidth))
          .thenApply(ignored -> meta);
    }
    return all(manager, new ArrayDeque<>(playlist.mediaUris(base))).thenApply(ignored -> meta);
  }

  private static Playlist read(CacheMetadata meta) throws IOException {
    String type = meta.headers().get("content-type");
    if (meta.length() == null || meta.length() > Playlist.MAX_SIZE
        || (!Playlist.looksLikePlaylist(meta.source(), type) && meta.length() > 64 * 1024)) {
      return null;
    }
    byte[] body = Files.readAllBytes(meta.dataFile());
    return Playlist.hasPlaylistHeader(body) ? Playlist.parse(body) : null;
  }

  private static CompletableFuture<CacheMetadata> preCache(CacheStreamManager manager, URI uri) {
    try {
      return manager.preCache(uri, Long.MAX_VALUE);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Pre-caches every URI, {@link #PARALLEL} at a time; fails with the first failure. */
  private static CompletableFuture<Void> all(CacheStreamManager manager, Queue<URI> pending) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    int[] running = {0};
    Runnable[] next = new Runnable[1];
    next[0] = () -> {
      synchronized (running) {
        while (running[0] < PARALLEL && !pending.isEmpty() && !done.isDone()) {
          URI uri = pending.poll();
          running[0]++;
          preCache(manager, uri).whenComplete((m, e) -> {
            synchronized (running) {
              running[0]--;
            }
            if (e != null) {
              done.completeExceptionally(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
            } else {
              next[0].run();
            }
          });
        }
        if (running[0] == 0 && pending.isEmpty()) {
          done.complete(null);
        }
      }
    };
    next[0].run();
    return done;
  }
}
