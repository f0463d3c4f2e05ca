package io.cachestream.engine;

import io.cachestream.CacheConfig;
import io.cachestream.LifecycleTimer;
import io.cachestream.store.CacheEntry;
import io.cachestream.store.EntryMeta;
import io.cachestream.store.MappedSpan;
import io.cachestream.store.RangeSet;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One remote resource while in use: its cache entry, the downloads ({@link Fetch}es) filling it and the readers
 * waiting for bytes. Every client of the same resource shares it, so one download serves them all.
 *
 * <p>Readers never poll: they ask {@link #available} for bytes present at their position and otherwise
 * {@link #await} a wake-up, which also makes sure some download will reach that position (a running one within
 * the split threshold, or a new range download).
 *
 * <p>Thread-safe: state is guarded by {@code this}; file I/O and callbacks run outside the lock.
 */
public final class Resource {
  private static final Logger log = LoggerFactory.getLogger(Resource.class);
  /** Downloads per resource at most: one sequential plus a few seeks. */
  private static final int MAX_FETCHES = 4;
  /** Bytes a demand-driven download fetches beyond a reader's position even with zero read-ahead. */
  private static final long MIN_DEMAND = 64 * 1024;

  private final Engine engine;
  private final String key;
  private final URI source;
  private final CacheEntry entry;
  private final Object checkpointLock = new Object();
  private volatile CacheConfig settings;

  // Guarded by this.
  private final RangeSet written;
  private RangeSet committed;
  private ResourceInfo info;
  private CompletableFuture<ResourceInfo> infoFuture = new CompletableFuture<>();
  private final List<Fetch> fetches = new ArrayList<>();
  private final List<Waiter> waiters = new ArrayList<>();
  private final List<Consumer<Resource>> listeners = new ArrayList<>();
  private int generation;
  private int holders;
  /** Holders that keep the resource open without wanting the whole file (partial preloads). */
  private int pins;
  private boolean paused;
  private boolean disposed;
  private boolean rangesUnsupported;
  private final long created;
  private long lastAccess;
  private long validated;
  private long uncheckpointedBytes;
  private boolean checkpointQueued;
  private long lastCheckpointNanos = System.nanoTime();
  /** The pending lifecycle step (pause or dispose), or null. */
  private LifecycleTimer.Cancellable idleTimer;
  /** Times the last holder let go; tells a lifecycle timer whether its idle period was interrupted. */
  private long releases;
  private CompletableFuture<Boolean> validation;
  private int failures;
  private IOException lastFailure;
  private StorageFailedException storageFailure;
  /** Larger than the whole cache budget: streamed through, never kept. */
  private boolean overBudget;
  /** For a live playlist: how old it may be when served; -1 for everything else. */
  private long liveMaxAgeMillis = -1;
  /** Readers' positions and requested ends, which bound demand-driven downloads. */
  private final Map<Object, long[]> readers = new HashMap<>();

  Resource(Engine engine, String key, URI source, CacheEntry entry) {
    this.engine = engine;
    this.key = key;
    this.source = source;
    this.entry = entry;
    this.settings = engine.config;
    EntryMeta meta = entry.loadedMeta();
    long now = System.currentTimeMillis();
    if (meta != null) {
      this.written = meta.rangeSet();
      this.committed = meta.rangeSet();
      this.info = new ResourceInfo(meta.length() == null ? -1 : meta.length(), meta.headers(), meta.finalUrl());
      this.infoFuture.complete(info);
      this.created = meta.created();
      this.validated = meta.validated();
    } else {
      this.written = new RangeSet();
      this.committed = new RangeSet();
      this.created = now;
    }
    this.lastAccess = now;
  }

  public String key() {
    return key;
  }

  public URI source() {
    return source;
  }


  /** The data file for zero-copy reads of bytes reported by {@link #available}; never close it. */
  public FileChannel channel() {
    return entry.channel();
  }

  /**
   * At most {@code maxLength} present bytes from {@code position} in a shared mapping of the data file (see
   * {@link CacheEntry#mapped}); null when the data file ends before {@code position}. Release the span once sent.
   * The mappings go when the resource pauses, idle.
   */
  public MappedSpan mapped(long position, int maxLength) throws IOException {
    return entry.mapped(position, maxLength);
  }

  /** Bumped whenever the cached bytes are dropped (new version at the origin, reset). */
  public synchronized int generation() {
    return generation;
  }

  /** The origin's description, or null before the origin answered. */
  public synchronized ResourceInfo info() {
    return info;
  }

  public synchronized RangeSet writtenRanges() {
    return written.copy();
  }

  public synchronized boolean isComplete() {
    return info != null && info.lengthKnown() && written.covers(0, info.length());
  }

  public synchronized boolean isDownloading() {
    return !fetches.isEmpty();
  }


  /**
   * Completes with the origin's description once known. If the resource is new, starts a download at
   * {@code startHint} (the reader's first byte) so the reader's bytes come with the first answer; completes
   * exceptionally with {@link OriginErrorException} or an {@link IOException} if the origin fails.
   */
  public CompletableFuture<ResourceInfo> open(long startHint) {
    return open(startHint, true);
  }

  private CompletableFuture<ResourceInfo> open(long startHint, boolean validateIfStale) {
    synchronized (this) {
      touch();
      if (info != null) {
        if (validateIfStale && (validation != null || isStale())) {
          return revalidate().thenCompose(unchanged -> open(startHint, false));
        }
        resumeWholeDownload();
        return CompletableFuture.completedFuture(info);
      }
      if (infoFuture.isDone()) {
        infoFuture = new CompletableFuture<>(); // the last attempt failed: try the origin again
      }
      if (fetches.isEmpty()) {
        startFetch(Math.max(0, startHint));
      }
      return infoFuture;
    }
  }

  private boolean isStale() {
    if (!settings.validateOutdatedCache() || info == null) {
      return false;
    }
    Long freshUntil = info.freshUntil(validated);
    return freshUntil != null && System.currentTimeMillis() >= freshUntil;
  }

  /**
   * Asks the origin whether the cached version is still current ({@code If-None-Match} / {@code If-Modified-Since}).
   * Completes with true if it is (304, or same validators); false if the origin has another version, in which case
   * the cached bytes are dropped. An unreachable origin keeps the cache as it is (completes with true), so offline
   * playback goes on.
   */
  public CompletableFuture<Boolean> revalidate() {
    ResourceInfo current;
    synchronized (this) {
      if (validation != null) {
        return validation;
      }
      if (info == null) {
        return CompletableFuture.completedFuture(true);
      }
      current = info;
      validation = new CompletableFuture<>();
    }
    CompletableFuture<Boolean> result = validation;
    engine.fetchThreads.execute(() -> {
      boolean unchanged = true;
      try {
        ResourceInfo fresh = Fetch.revalidate(engine, settings, source, current);
        synchronized (this) {
          validated = System.currentTimeMillis();
        }
        if (fresh != null) {
          unchanged = !current.isOtherVersion(fresh);
          learnInfo(null, unchanged ? fresh.withLength(current.length()) : fresh);
        } else {
          writeMeta();
        }
      } catch (IOException e) {
        log.warn("cannot revalidate {}: {}; serving the cached copy", source, e.toString());
      } finally {
        synchronized (this) {
          validation = null;
        }
        result.complete(unchanged);
      }
    });
    return result;
  }

  /** Drops every cached byte and what is known of the resource; the next read starts from the origin afresh. */
  public void reset() throws IOException {
    List<Runnable> callbacks;
    synchronized (this) {
      generation++;
      written.clear();
      committed = new RangeSet();
      fetches.forEach(Fetch::cancel);
      info = null;
      infoFuture = new CompletableFuture<>();
      rangesUnsupported = false;
      entry.truncate(null);
      engine.index.clear(key);
      callbacks = wakeEnded();
    }
    callbacks.forEach(Runnable::run);
  }

  /** Like {@link #open} but, for a resource never seen, asks the origin with HEAD instead of downloading. */
  public CompletableFuture<ResourceInfo> head() {
    synchronized (this) {
      touch();
      if (info != null) {
        return CompletableFuture.completedFuture(info);
      }
    }
    CompletableFuture<ResourceInfo> result = new CompletableFuture<>();
    engine.fetchThreads.execute(() -> {
      try {
        ResourceInfo fresh = Fetch.head(engine, settings, source);
        learnInfo(null, fresh);
        result.complete(fresh);
      } catch (IOException | RuntimeException e) {
        result.completeExceptionally(e);
      }
    });
    return result;
  }

  /**
   * Marks this resource as a live playlist: once older than {@code maxAge}, {@link #refreshIfStale()} drops it so
   * the next read fetches it again.
   */
  public synchronized void markLive(Duration maxAge) {
    liveMaxAgeMillis = maxAge.toMillis();
  }

  /** Drops a live playlist older than its refresh interval, so it is never served staler than that. */
  public void refreshIfStale() throws IOException {
    synchronized (this) {
      if (liveMaxAgeMillis < 0 || info == null || !fetches.isEmpty()
          || System.currentTimeMillis() - validated <= liveMaxAgeMillis) {
        return;
      }
    }
    reset();
  }

  /** Why the cache cannot store this resource (full disk, over budget), or null. */
  public synchronized IOException storageFailure() {
    return storageFailure;
  }

  /** The last download failure, or null. */
  public synchronized IOException lastFailure() {
    return lastFailure;
  }

  /** How many downloads of this resource failed so far; readers note it when they start. */
  public synchronized int failures() {
    return failures;
  }

  /** Number of bytes present from {@code position} on without a gap (0 if {@code position} is missing). */
  public synchronized long available(long position) {
    return written.contiguousEnd(position) - position;
  }

  private synchronized void overBudget() {
    overBudget = true;
  }

  private synchronized long writtenBytes() {
    return written.totalBytes();
  }

  /** The total length, or -1 while unknown. */
  public synchronized long length() {
    return info == null ? -1 : info.length();
  }

  /**
   * Calls {@code wake} once {@code position} is present, the end is known to lie at or before it, the resource
   * changed (generation is no longer {@code expectedGeneration}) or the download that would bring it failed
   * (with the failure), or a download failed after the reader saw {@code failuresSeen} failures (see
   * {@link #failures()}) and none is running for {@code position}. Makes sure a download will reach
   * {@code position}. {@code wake} runs on a download
   * thread or the caller's thread, outside any lock, at most once.
   */
  public void await(long position, int expectedGeneration, int failuresSeen, Consumer<IOException> wake) {
    IOException failure = null;
    boolean now;
    synchronized (this) {
      touch();
      if (expectedGeneration != generation) {
        failure = new IOException("resource changed at the origin");
        now = true;
      } else if (storageFailure != null && !written.contains(position)) {
        failure = storageFailure;
        now = true;
      } else if (failures != failuresSeen && lastFailure != null && !written.contains(position)
          && !coveredByRunning(position)) {
        // A download failed since this reader began: it gets the failure rather than a fresh attempt.
        failure = lastFailure;
        now = true;
      } else {
        now = written.contains(position) || (info != null && info.lengthKnown() && position >= info.length());
      }
      if (!now) {
        waiters.add(new Waiter(position, expectedGeneration, wake));
        ensureCoverage(position);
      }
    }
    if (now) {
      wake.accept(failure);
    }
  }

  /** Listens to progress and state changes; the listener runs on a download thread and must be quick. */
  public synchronized void addListener(Consumer<Resource> listener) {
    listeners.add(listener);
  }

  public synchronized void removeListener(Consumer<Resource> listener) {
    listeners.remove(listener);
  }

  /** Starts (or resumes) the download of every missing byte. */
  public synchronized void downloadAll() {
    touch();
    if (info == null) {
      if (fetches.isEmpty()) {
        startFetch(0);
      }
      return;
    }
    paused = false;
    resumeWholeDownload();
  }

  synchronized void hold(boolean wholeFile) {
    holders++;
    if (!wholeFile) {
      pins++;
    }
    touch();
    paused = false;
  }

  /** Gives back a hold taken by {@link Engine#acquire}; the lifecycle pauses and disposes idle resources. */
  public void release() {
    release(true);
  }

  /** Gives back a hold taken with {@link Engine#acquire(URI, boolean)}. */
  public void release(boolean wholeFile) {
    synchronized (this) {
      if (holders == 0 || (!wholeFile && pins == 0)) {
        throw new IllegalStateException("release without hold");
      }
      if (!wholeFile) {
        pins--;
      }
      if (--holders > 0 || disposed) {
        return;
      }
      releases++;
      if (idleTimer == null) {
        armPause(releases);
      }
    }
  }

  /**
   * Arms the pause step for the idle period that began with release number {@code epoch}. One timer per idle
   * period, not per request: a client that comes and goes on every request only bumps {@link #releases}, and the
   * timer, when it fires, starts over if the resource was used meanwhile.
   */
  private void armPause(long epoch) {
    idleTimer = engine.lifecycleTimer.schedule(() -> pauseIfIdle(epoch), settings.lifecycle().pauseAfter());
  }

  /** True when nobody holds the resource (no client connection, no unreleased stream). */
  public synchronized boolean isIdle() {
    return holders == 0;
  }

  private synchronized void pauseIfIdle(long epoch) {
    idleTimer = null;
    if (holders > 0 || disposed) {
      return; // in use again: its next release arms a new idle period
    }
    if (releases != epoch) {
      armPause(releases); // used and released again meanwhile: the idle period starts over
      return;
    }
    paused = true;
    fetches.forEach(Fetch::cancel);
    entry.unmapAll(); // idle: its mapped pages leave the daemon's resident set
    var lifecycle = settings.lifecycle();
    idleTimer = engine.lifecycleTimer.schedule(() -> disposeIfIdle(epoch),
        lifecycle.disposeAfter().minus(lifecycle.pauseAfter()));
  }

  private void disposeIfIdle(long epoch) {
    synchronized (this) {
      idleTimer = null;
      if (holders > 0 || disposed) {
        return;
      }
      if (releases != epoch) {
        armPause(releases);
        return;
      }
    }
    engine.disposeIfIdle(this);
  }

  /** Stops downloads, checkpoints and closes the files. */
  void dispose() {
    synchronized (this) {
      if (disposed) {
        return;
      }
      disposed = true;
      if (idleTimer != null) {
        idleTimer.cancel();
      }
    }
    stopDownloads();
    checkpoint();
    boolean keepNothing;
    synchronized (this) {
      // The origin never answered with content, or the resource does not fit the budget: keep nothing.
      keepNothing = info == null || overBudget;
    }
    try {
      entry.close();
      if (keepNothing) {
        engine.store.delete(key);
        engine.index.remove(key);
      }
    } catch (IOException e) {
      log.warn("closing {}: {}", entry.dir(), e.toString());
    }
    failWaiters(new IOException("stream closed"), Long.MIN_VALUE);
  }

  /**
   * Cancels the running downloads and waits (5 s at most each) until they have ended. A download issued from an
   * event loop needs that loop to end, so never call this holding a lock an event loop takes (the engine's).
   */
  void stopDownloads() {
    List<Fetch> running;
    synchronized (this) {
      running = new ArrayList<>(fetches);
    }
    running.forEach(Fetch::cancel);
    running.forEach(Fetch::awaitStopped);
  }

  // ---- download side, called by Fetch ----

  private void touch() {
    lastAccess = System.currentTimeMillis();
  }

  private void startFetch(long start) {
    startFetch(start, Long.MAX_VALUE, settings.readAhead() != null);
  }

  private void startFetch(long start, long fixedEnd, boolean demandDriven) {
    Fetch fetch = new Fetch(engine, this, start, generation, fixedEnd, demandDriven);
    fetches.add(fetch);
    fetch.begin();
  }

  /** The settings in force: the manager's, or a stream's own ({@link #configure}). */
  public CacheConfig settings() {
    return settings;
  }

  /** Gives this resource its own settings (per-stream configuration); they apply to downloads started next. */
  public void configure(CacheConfig perStream) {
    this.settings = Objects.requireNonNull(perStream, "perStream");
  }

  /**
   * Downloads the missing bytes of {@code [0, maxBytes)} (a partial preload), ignoring read-ahead; does nothing if
   * they are present or a download already covers the first gap.
   */
  public synchronized void preload(long maxBytes) {
    touch();
    if (info == null) {
      if (fetches.isEmpty()) {
        startFetch(0, maxBytes, false);
      }
      return;
    }
    long end = info != null && info.lengthKnown() ? Math.min(maxBytes, info.length()) : maxBytes;
    long gap = written.firstGap(0, end);
    if (gap < 0 || storageFailure != null) {
      return;
    }
    for (Fetch f : fetches) {
      if (f.start() <= gap && gap < boundOf(f)) {
        return;
      }
    }
    startFetch(gap, end, false);
  }

  /** True once every byte of {@code [0, min(maxBytes, length))} is present. */
  public synchronized boolean hasPrefix(long maxBytes) {
    return info != null && info.lengthKnown() && written.covers(0, Math.min(maxBytes, info.length()));
  }

  /** A reader starts streaming {@code [position, end)} ({@code end} {@code Long.MAX_VALUE} for "to the end"). */
  public synchronized void readerAt(Object reader, long position, long end) {
    readers.put(reader, new long[] {position, end});
    notifyAll();
  }

  /** A reader is gone. */
  public synchronized void readerGone(Object reader) {
    readers.remove(reader);
    notifyAll();
  }

  /**
   * The exclusive end {@code fetch} should download to now: its fixed end, the length, and, for demand-driven
   * downloads, the furthest byte wanted by the readers it serves (their position plus read-ahead, within what they
   * asked for).
   */
  synchronized long targetOf(Fetch fetch) {
    long target = fetch.fixedEnd();
    if (fetch.demandDriven() && settings.readAhead() != null) {
      // Before the origin answered, the reader that started this download is not registered yet: ask for its share.
      long demand = info == null ? fetch.position() + settings.readAhead() + MIN_DEMAND : fetch.position();
      for (long[] r : readers.values()) {
        if (serves(fetch, r[0])) {
          long wanted = Math.min(r[1], r[0] + settings.readAhead() + MIN_DEMAND);
          demand = Math.max(demand, wanted);
        }
      }
      target = Math.min(target, demand);
    }
    if (info != null && info.lengthKnown()) {
      target = Math.min(target, info.length());
    }
    return target;
  }

  /**
   * Parks a demand-driven download until its readers want more; false when none is left to want it (the download
   * ends; a later reader starts a new one).
   */
  synchronized boolean awaitDemand(Fetch fetch) throws InterruptedException {
    long deadline = System.nanoTime() + settings.lifecycle().pauseAfter().toNanos();
    while (!fetch.isCancelled() && !disposed && targetOf(fetch) <= fetch.position()) {
      boolean served = false;
      for (long[] r : readers.values()) {
        served |= serves(fetch, r[0]);
      }
      long left = deadline - System.nanoTime();
      if (!served || left <= 0 || !fetch.demandDriven()) {
        return false;
      }
      wait(Math.max(1, Math.min(left / 1_000_000, 1000)));
    }
    return !fetch.isCancelled() && !disposed;
  }

  /** While held and not paused, keeps one download running over the first missing byte. */
  private void resumeWholeDownload() {
    if (paused || disposed || holders == pins || settings.readAhead() != null || !fetches.isEmpty()
        || info == null || storageFailure != null) {
      return;
    }
    long end = info.lengthKnown() ? info.length() : Long.MAX_VALUE;
    long gap = written.firstGap(0, end);
    if (gap >= 0) {
      startFetch(gap);
    }
  }

  /** True if {@code fetch} is the download that will bring {@code position}: ahead of it, within the threshold. */
  private boolean serves(Fetch fetch, long position) {
    Long threshold = settings.rangeRequestSplitThreshold();
    return position >= fetch.start() && position < boundOf(fetch)
        && (threshold == null || rangesUnsupported || position - fetch.position() <= threshold);
  }

  /** Starts a download for {@code position} unless a running one will reach it soon enough. */
  private void ensureCoverage(long position) {
    if (disposed || storageFailure != null) {
      return;
    }
    if (info != null && !info.lengthKnown()) {
      // Without a length no far range can be asked for: the sequential download brings everything.
      if (fetches.isEmpty()) {
        startFetch(written.contiguousEnd(0));
      }
      return;
    }
    Long threshold = settings.rangeRequestSplitThreshold();
    for (Fetch f : fetches) {
      // Within the threshold a running download brings the byte, unless by its own measure it would take longer
      // than a fresh request to get there (a seek past a slow download's edge, say).
      if (serves(f, position) && (threshold == null || !f.slowerThanAFreshRequest(position))) {
        return;
      }
    }
    if (rangesUnsupported) {
      if (fetches.isEmpty()) {
        startFetch(0);
      }
      return;
    }
    if (fetches.size() >= MAX_FETCHES) {
      // Too many downloads: the closest one below takes it eventually; ended downloads re-check waiters.
      return;
    }
    startFetch(position);
  }

  /**
   * Where a download has to stop: the next byte already present or the start of another download above it.
   */
  private long boundOf(Fetch f) {
    long bound = written.nextStartAfter(f.position());
    for (Fetch other : fetches) {
      if (other != f && other.start() > f.start() && other.start() < bound) {
        bound = other.start();
      }
    }
    if (info != null && info.lengthKnown()) {
      bound = Math.min(bound, info.length());
    }
    return bound;
  }

  /** Records what the origin said; for a known resource with another version, drops the old bytes. */
  void learnInfo(Fetch self, ResourceInfo fresh) throws IOException {
    List<Runnable> callbacks;
    synchronized (this) {
      if (self != null && self.generation() != generation) {
        throw new java.io.InterruptedIOException("superseded by a newer version");
      }
      if (info != null && info.isOtherVersion(fresh)) {
        resetLocked(self, fresh);
      }
      info = fresh;
      validated = System.currentTimeMillis();
      infoFuture.complete(fresh);
      callbacks = wakeEnded();
    }
    Long budget = engine.config.maxCacheBytes();
    if (budget != null && fresh.length() > budget) {
      // A resource larger than the whole budget streams through without being kept.
      overBudget();
      storageFailed(new IOException(fresh.length() + " bytes is larger than maxCacheBytes " + budget));
    }
    // The description goes to disk beside the download, not before its first bytes: a durable write (fsync twice)
    // costs milliseconds, and this meta claims no byte that a checkpoint has not already claimed.
    engine.fetchThreads.execute(() -> {
      synchronized (this) {
        if (disposed) {
          return; // its last checkpoint wrote the last meta
        }
      }
      try {
        writeMeta();
      } catch (ClosedChannelException disposedMeanwhile) {
        // Disposed between the check and the write: its own checkpoint wrote the last meta.
      } catch (IOException e) {
        storageFailed(e);
      }
    });
    callbacks.forEach(Runnable::run);
  }

  /**
   * The cache cannot take this resource's bytes: stop downloading into it (meta keeps claiming only what was
   * checkpointed) and send every reader waiting for a missing byte straight to the origin.
   */
  private void storageFailed(IOException cause) {
    List<Runnable> callbacks = new ArrayList<>();
    synchronized (this) {
      if (storageFailure != null) {
        return;
      }
      storageFailure = new StorageFailedException(cause);
      fetches.forEach(Fetch::cancel);
      for (Waiter w : waiters) {
        callbacks.add(() -> w.wake.accept(storageFailure));
      }
      waiters.clear();
    }
    log.warn("cannot store {} in the cache ({}): streaming it from the origin without caching", source,
        cause.getMessage());
    callbacks.forEach(Runnable::run);
  }

  /**
   * Opens the resource at {@code from} straight from the origin, bypassing the cache, up to {@code end}
   * (exclusive; -1 for the end of the body).
   */
  public DirectStream openDirect(long from, long end) throws IOException {
    return Fetch.direct(engine, settings, source, from, end, ifRangeValidator());
  }

  /** The origin ignores Range: one download from byte 0 will bring everything, so no splits. */
  synchronized void markRangesUnsupported() {
    rangesUnsupported = true;
  }

  synchronized boolean rangesUnsupported() {
    return rangesUnsupported;
  }

  /** The validator to send with {@code If-Range}, or null. */
  synchronized String ifRangeValidator() {
    return info == null ? null : info.ifRangeValidator();
  }

  synchronized ResourceInfo currentInfo() {
    return info;
  }

  /**
   * Takes downloaded bytes at {@code offset}. A ranged download ({@code wholeBody} false) keeps only the bytes up to
   * the next present byte or another download's start and is told to stop there; a download of a body that
   * ignores Range keeps the bytes not yet present and goes on.
   *
   * @return false when the download should stop
   */
  boolean accept(Fetch fetch, ByteBuffer buf, long offset, boolean wholeBody) throws IOException {
    long end = offset + buf.remaining();
    long keepFrom = offset;
    long keepTo = end;
    boolean goOn = true;
    synchronized (this) {
      if (fetch.generation() != generation || disposed || fetch.isCancelled()) {
        return false;
      }
      if (info != null && info.lengthKnown() && end > info.length()) {
        throw new IOException("origin sent more than its length " + info.length());
      }
      if (wholeBody) {
        keepFrom = written.contiguousEnd(offset);
        if (keepFrom >= end) {
          return true;
        }
        keepTo = Math.min(end, written.nextStartAfter(keepFrom));
      } else {
        if (written.contains(offset)) {
          return false;
        }
        long bound = boundOf(fetch);
        if (bound <= end) {
          keepTo = bound;
          goOn = false;
        }
      }
    }
    ByteBuffer slice = buf.duplicate();
    slice.position(buf.position() + (int) (keepFrom - offset));
    slice.limit(buf.position() + (int) (keepTo - offset));
    try {
      entry.write(slice, keepFrom);
    } catch (IOException e) {
      storageFailed(e);
      return false;
    }
    List<Runnable> callbacks;
    boolean checkpointDue;
    synchronized (this) {
      if (fetch.generation() != generation) {
        return false;
      }
      long before = written.totalBytes();
      written.add(keepFrom, keepTo);
      engine.index.grow(key, written.totalBytes() - before);
      uncheckpointedBytes += keepTo - keepFrom;
      checkpointDue = !checkpointQueued && (uncheckpointedBytes >= engine.config.checkpointBytes()
          || System.nanoTime() - lastCheckpointNanos >= engine.config.checkpointInterval().toNanos()
          || (info != null && info.lengthKnown() && written.covers(0, info.length())));
      checkpointQueued |= checkpointDue;
      callbacks = wakePresent(keepFrom, keepTo);
    }
    callbacks.forEach(Runnable::run);
    if (checkpointDue) {
      // The fsync runs beside the download, not in its way: the download keeps reading meanwhile.
      engine.fetchThreads.execute(() -> {
        synchronized (this) {
          checkpointQueued = false;
        }
        checkpoint();
      });
    }
    Long budget = engine.config.maxCacheBytes();
    if (budget != null && writtenBytes() > budget) {
      overBudget();
      storageFailed(new IOException("larger than maxCacheBytes " + budget));
      return false;
    }
    engine.bytesStored();
    return goOn;
  }

  /** The body ended at {@code end}: for an unknown length, that is the length. */
  void reachedEnd(Fetch fetch, long end) throws IOException {
    List<Runnable> callbacks;
    synchronized (this) {
      if (fetch.generation() != generation || info == null) {
        return;
      }
      if (info.lengthKnown()) {
        if (end < info.length()) {
          throw new IOException("body ended at " + end + " before its length " + info.length());
        }
        return;
      }
      info = info.withLength(end);
      callbacks = wakeEnded();
    }
    checkpoint();
    callbacks.forEach(Runnable::run);
  }

  /** A download ended (done, stopped or failed after its retries). */
  void fetchEnded(Fetch fetch, IOException failure) {
    List<Runnable> callbacks = new ArrayList<>();
    synchronized (this) {
      fetches.remove(fetch);
      if (failure != null && fetch.generation() == generation) {
        failures++;
        lastFailure = failure;
        if (info == null) {
          infoFuture.completeExceptionally(failure);
        } else {
          callbacks.addAll(collectFailed(failure, fetch.start()));
        }
      }
      if (failure == null) {
        resumeWholeDownload();
      }
      // Waiters left without a download (theirs stopped at a download that later ended) get a new one.
      if (info != null && !disposed) {
        for (Waiter w : new ArrayList<>(waiters)) {
          ensureCoverage(w.position);
        }
      }
    }
    if (failure != null) {
      log.warn("download of {} failed: {}", source, failure.toString());
    }
    checkpoint();
    callbacks.forEach(Runnable::run);
    notifyListeners();
  }

  /** Forces written bytes to disk and records them in meta. */
  public void checkpoint() {
    synchronized (checkpointLock) {
      EntryMeta meta;
      synchronized (this) {
        if (info == null || written.equals(committed)) {
          return;
        }
        meta = metaFor(written);
        uncheckpointedBytes = 0;
        lastCheckpointNanos = System.nanoTime();
      }
      try {
        entry.checkpoint(meta);
        synchronized (this) {
          committed = meta.rangeSet();
        }
      } catch (IOException e) {
        storageFailed(e);
      }
    }
    notifyListeners();
  }

  /** Writes meta claiming only committed bytes (used when the description changes); nothing once reset. */
  private void writeMeta() throws IOException {
    synchronized (checkpointLock) {
      EntryMeta meta;
      synchronized (this) {
        if (info == null) {
          return;
        }
        meta = metaFor(committed);
      }
      entry.writeMeta(meta);
    }
  }

  private EntryMeta metaFor(RangeSet ranges) {
    Long length = info.lengthKnown() ? info.length() : null;
    boolean complete = length != null && ranges.covers(0, length);
    return new EntryMeta(EntryMeta.FORMAT_VERSION, key, source.toString(), info.finalUrl(), length,
        info.contentType(), info.etag(), info.lastModified(), info.headers(), ranges.toList(), complete, created,
        lastAccess, validated, info.freshUntil(validated));
  }

  /** Drops all bytes of the old version; readers of it are woken and see the generation change. */
  private void resetLocked(Fetch survivor, ResourceInfo fresh) throws IOException {
    generation++;
    written.clear();
    engine.index.clear(key);
    committed = new RangeSet();
    for (Fetch f : fetches) {
      if (f == survivor) {
        f.adoptGeneration(generation);
      } else {
        f.cancel();
      }
    }
    info = fresh;
    entry.truncate(metaFor(committed));
    log.info("{} changed at the origin: cached bytes dropped", source);
  }

  private List<Runnable> wakePresent(long from, long to) {
    List<Runnable> callbacks = new ArrayList<>();
    for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (w.position >= from && w.position < to) {
        it.remove();
        callbacks.add(() -> w.wake.accept(null));
      }
    }
    return callbacks;
  }

  private List<Runnable> wakeEnded() {
    List<Runnable> callbacks = new ArrayList<>();
    for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      boolean atEnd = info != null && info.lengthKnown() && w.position >= info.length();
      if (atEnd || w.generation != generation) {
        it.remove();
        IOException failure = w.generation != generation ? new IOException("resource changed at the origin") : null;
        callbacks.add(() -> w.wake.accept(failure));
      }
    }
    return callbacks;
  }

  private List<Runnable> collectFailed(IOException failure, long from) {
    List<Runnable> callbacks = new ArrayList<>();
    for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (w.position >= from && !coveredByRunning(w.position)) {
        it.remove();
        callbacks.add(() -> w.wake.accept(failure));
      }
    }
    return callbacks;
  }

  private boolean coveredByRunning(long position) {
    for (Fetch f : fetches) {
      if (position >= f.start() && position < boundOf(f)) {
        return true;
      }
    }
    return false;
  }

  private void failWaiters(IOException failure, long from) {
    List<Runnable> callbacks;
    synchronized (this) {
      callbacks = new ArrayList<>();
      for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
        Waiter w = it.next();
        if (w.position >= from) {
          it.remove();
          callbacks.add(() -> w.wake.accept(failure));
        }
      }
    }
    callbacks.forEach(Runnable::run);
  }

  private void notifyListeners() {
    List<Consumer<Resource>> copy;
    synchronized (this) {
      if (listeners.isEmpty()) {
        return;
      }
      copy = new ArrayList<>(listeners);
    }
    for (Consumer<Resource> l : copy) {
      try {
        l.accept(this);
      } catch (RuntimeException e) {
        log.warn("listener failed", e);
      }
    }
  }

  private record Waiter(long position, int generation, Consumer<IOException> wake) {}
}
