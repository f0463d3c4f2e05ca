package io.cachestream;

import io.cachestream.engine.Engine;
import io.cachestream.engine.Resource;
import io.cachestream.store.RangeSet;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.concurrent.SubmissionPublisher;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Direct access to one resource's download and cache (the seed's {@code HttpCacheStream}, from
 * {@link CacheStreamManager#stream}). Holding a stream keeps its download going; hand it back with
 * {@link #release()} (the lifecycle pauses and disposes it) or {@link #close()}.
 *
 * <p>Thread-safe. Listeners run on a download thread and must return quickly; a released stream throws
 * {@link IllegalStateException} from the methods that act.
 */
public final class CacheStream implements AutoCloseable {
  private final Resource resource;
  private final URI source;
  private final List<Consumer<CacheState>> listeners = new CopyOnWriteArrayList<>();
  private final Consumer<Resource> bridge = r -> notifyListeners();
  private final AtomicBoolean released = new AtomicBoolean();
  private final List<SubmissionPublisher<CacheState>> publishers = new ArrayList<>();
  private final Engine engine;

  CacheStream(Engine engine, Resource resource, URI source) {
    this.engine = engine;
    this.resource = resource;
    this.source = source;
    resource.addListener(bridge);
  }

  public URI source() {
    return source;
  }

  /** Starts downloading every missing byte now (optional: the first request starts it too). */
  public CacheStream download() {
    checkHeld();
    resource.downloadAll();
    return this;
  }

  /** The current state. */
  public CacheState state() {
    RangeSet ranges = resource.writtenRanges();
    long length = resource.length();
    List<ByteRange> list = new ArrayList<>();
    for (long[] r : ranges.toList()) {
      list.add(new ByteRange(r[0], r[1]));
    }
    CacheState.Status status = released.get() ? CacheState.Status.CLOSED
        : resource.isComplete() ? CacheState.Status.COMPLETE
        : resource.isDownloading() ? CacheState.Status.DOWNLOADING
        : CacheState.Status.IDLE;
    return new CacheState(ranges.contiguousEnd(0), length < 0 ? null : length, ranges.totalBytes(), list, status);
  }

  /**
   * Asks the origin whether the cached copy is current (the seed's {@code validateCache}). Completes with true if it
   * is, or if the origin cannot be reached (the cache keeps serving); false if the origin has another version, whose
   * bytes then replace the old ones as they are downloaded.
   */
  public CompletableFuture<Boolean> validate() {
    checkHeld();
    return resource.revalidate();
  }

  /**
   * Drops every cached byte of this resource (the seed's {@code resetCache}); the next read downloads it afresh.
   *
   * @throws IOException if the cache files cannot be truncated
   */
  public void reset() throws IOException {
    checkHeld();
    resource.reset();
  }

  /** Calls {@code listener} with the new state on progress (each checkpoint) and when downloads end. */
  public void addListener(Consumer<CacheState> listener) {
    listeners.add(listener);
  }

  public void removeListener(Consumer<CacheState> listener) {
    listeners.remove(listener);
  }

  private void notifyListeners() {
    if (listeners.isEmpty()) {
      return;
    }
    CacheState state = state();
    listeners.forEach(l -> l.accept(state));
  }

  /**
   * A publisher of state changes (the seed's {@code cacheStateStream}): each subscriber gets the states from its
   * subscription on, delivered on a daemon thread; it completes when the stream is released.
   */
  public Flow.Publisher<CacheState> states() {
    return subscriber -> {
      SubmissionPublisher<CacheState> publisher = new SubmissionPublisher<>();
      publisher.subscribe(subscriber);
      synchronized (publishers) {
        if (released.get()) {
          publisher.close();
          return;
        }
        publishers.add(publisher);
      }
      // offer, not submit: a slow subscriber drops states rather than blocking a download thread.
      addListener(state -> publisher.offer(state, null));
    };
  }

  /**
   * Gives this stream its own settings (the seed's per-stream {@code config}): request and response headers,
   * {@code copyCachedResponseHeaders}, {@code rangeRequestSplitThreshold}, {@code readAhead},
   * {@code validateOutdatedCache}, {@code lifecycle}, {@code readTimeout} and {@code retryAttempts} apply to this
   * resource from its next download or response on; server-wide settings (port, cache dir, budget) are ignored.
   * Build it from {@code manager.config().toBuilder()}.
   */
  public CacheStream configure(CacheConfig perStream) {
    checkHeld();
    resource.configure(perStream);
    return this;
  }

  /** Hands the stream back to the lifecycle: downloads pause after {@code pauseAfter} idle. Idempotent. */
  public void release() {
    if (released.compareAndSet(false, true)) {
      resource.removeListener(bridge);
      resource.release();
      synchronized (publishers) {
        publishers.forEach(SubmissionPublisher::close);
        publishers.clear();
      }
    }
  }

  /**
   * Releases the stream and, unless a client or another stream still uses the resource, tears it down now
   * (downloads stop, files close; the cache stays), bypassing the lifecycle. Idempotent.
   */
  @Override
  public void close() {
    boolean wasHeld = !released.get();
    release();
    if (wasHeld) {
      engine.disposeIfIdle(resource);
    }
  }

  private void checkHeld() {
    if (released.get()) {
      throw new IllegalStateException("stream of " + source + " was released");
    }
  }
}
