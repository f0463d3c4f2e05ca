package io.cachestream.engine;

import io.cachestream.CacheConfig;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import okhttp3.Call;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSource;

/**
 * One download into a resource: {@code GET} with {@code Range: bytes=start-} (or, when bounded by a partial preload
 * or by readers' read-ahead, {@code bytes=start-end} requests one after another), written sequentially until the
 * resource says stop (present bytes reached, nobody needs more) or the body ends. A body cut off mid-way is resumed
 * from where it stopped, with {@code If-Range}, up to the configured number of attempts. Holds a per-host permit
 * while a request is open.
 *
 * <p>A download asked for from one of the server's event loops issues its first request from that loop
 * ({@link LoopRequest}), so that a cold client's first bytes cost no thread hand-off; every later request, and a
 * first request the loop does not take, runs on a download thread with the blocking client.
 */
final class Fetch implements Runnable {
  static final int MAX_ERROR_BODY = 1 << 20;
  /** Sent to origins unless the configuration names another. */
  private static final String USER_AGENT = "CacheStream";
  private static final int CHUNK = 64 * 1024;
  /**
   * How far ahead of a download a byte must be before its speed can send a reader to a fresh request: a reader at
   * the download's edge (or a chunk past it, while the chunk is being recorded) waits for the next bytes, which a
   * fresh request to the same origin would bring no sooner.
   */
  private static final long MIN_SPLIT_DISTANCE = 256 * 1024;
  /**
   * The least wait worth a second download: below it, setting one up and the two downloads overlapping with the
   * player's next requests cost about what they save (measured with ffprobe and ffmpeg on a cold MP4 from a
   * loopback origin, where the tail seek would wait 1-3 ms: 1.03-1.08 times nginx's play time with splits at any
   * gain, 1.01-1.03 without).
   */
  private static final long MIN_SPLIT_WAIT_NANOS = 10_000_000;
  /**
   * One chunk buffer per download thread, reused by every download the thread runs: a fresh 64 KiB per download was
   * 60 % of the bytes a cold request allocated (JFR). Direct, so the file write takes it as it is; the JDK would copy
   * a heap buffer into a temporary direct one of its own first.
   */
  private static final ThreadLocal<ByteBuffer> CHUNKS = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(CHUNK));

  private final Engine engine;
  private final Resource resource;
  private volatile long start;
  private volatile int generation;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile long position;
  /** When the current request was asked and when its head came (System.nanoTime; 0 until it came). */
  private volatile long askedAt;
  private volatile long answeredAt;
  /** {@link #position} when the current request's head came: the bytes since then measure its speed. */
  private volatile long positionAtAnswer;
  private volatile boolean cancelled;
  /** Aborts the request in flight (cancels the call, closes the connection), or null. */
  private volatile Runnable abort;

  /** Exclusive end this download never passes (a partial preload), or {@code Long.MAX_VALUE}. */
  private final long fixedEnd;
  /** True when readers' demand bounds it (bounded read-ahead); false for whole-file and preload downloads. */
  private final boolean demandDriven;

  Fetch(Engine engine, Resource resource, long start, int generation, long fixedEnd, boolean demandDriven) {
    this.engine = engine;
    this.resource = resource;
    this.start = start;
    this.position = start;
    this.generation = generation;
    this.fixedEnd = fixedEnd;
    this.demandDriven = demandDriven;
  }

  long start() {
    return start;
  }

  long position() {
    return position;
  }

  long fixedEnd() {
    return fixedEnd;
  }

  boolean demandDriven() {
    return demandDriven;
  }

  /**
   * True when this download, at the speed its current response has shown, would take longer to bring
   * {@code target} than twice what the origin took to answer that response, and longer than
   * {@link #MIN_SPLIT_WAIT_NANOS}: a fresh request for {@code target} would be there clearly sooner. False until
   * the response's head came (nothing is measured yet), and for a byte less than {@link #MIN_SPLIT_DISTANCE} ahead.
   */
  boolean slowerThanAFreshRequest(long target) {
    long answered = answeredAt;
    long distance = target - position;
    if (answered == 0 || distance < MIN_SPLIT_DISTANCE) {
      return false;
    }
    long worthSplitting = Math.max(2 * (answered - askedAt), MIN_SPLIT_WAIT_NANOS);
    long since = System.nanoTime() - answered;
    long brought = position - positionAtAnswer;
    if (brought <= 0) {
      return since > worthSplitting; // nothing came for that long
    }
    return (double) distance * since / brought > worthSplitting;
  }

  int generation() {
    return generation;
  }

  /** This download brought the new version that replaced the old one: it now belongs to it. */
  void adoptGeneration(int newGeneration) {
    generation = newGeneration;
  }

  boolean isCancelled() {
    return cancelled;
  }

  void cancel() {
    cancelled = true;
    Runnable a = abort;
    if (a != null) {
      a.run();
    }
  }

  /** Sets what {@link #cancel()} aborts; runs it at once if the download was cancelled meanwhile. */
  void abortWith(Runnable requestAbort) {
    abort = requestAbort;
    if (cancelled) {
      requestAbort.run();
    }
  }

  void awaitStopped() {
    try {
      stopped.await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Starts the download: from the caller's event loop when it is one of the server's, else on a download thread. */
  void begin() {
    EventLoop loop = engine.currentLoop();
    if (loop != null && LoopRequest.canIssue(resource.source())) {
      try {
        // Not at once: the caller holds the resource's lock, and the request's first steps may call back into it.
        loop.execute(() -> LoopRequest.issue(this, resource, engine, loop));
        return;
      } catch (RejectedExecutionException shuttingDown) {
        // The server is stopping: the download thread does it.
      }
    }
    engine.fetchThreads.execute(this);
  }

  /** How one request ended. */
  enum Outcome { STOPPED, REACHED_TARGET, AT_END }

  @Override
  public void run() {
    finish(requestsFrom(0));
  }

  /**
   * Goes on, on a download thread, where a request issued from an event loop left off.
   *
   * @param outcome how its body ended, or null when it failed or took no body (a redirect, say: the next request
   *     asks again)
   * @param failure why it failed, or null
   * @param bodyEnd where its body ended, for {@link Resource#reachedEnd}
   */
  void continueOnThread(Outcome outcome, IOException failure, long bodyEnd) {
    try {
      engine.fetchThreads.execute(() -> continueAfter(outcome, failure, bodyEnd));
    } catch (RejectedExecutionException engineClosed) {
      finish(null);
    }
  }

  private void continueAfter(Outcome outcome, IOException failure, long bodyEnd) {
    IOException failed = failure;
    if (outcome == Outcome.AT_END && !cancelled) {
      try {
        resource.reachedEnd(this, bodyEnd); // here, not on the loop: it may checkpoint, which syncs
        finish(null);
        return;
      } catch (IOException e) {
        failed = e;
      }
    }
    if (cancelled || outcome == Outcome.STOPPED) {
      finish(null);
    } else if (failed != null && (!retryable(failed) || resource.settings().retryAttempts() < 1)) {
      finish(failed);
    } else if (failed != null && !backoff(1)) {
      finish(null);
    } else {
      finish(requestsFrom(failed == null ? 0 : 1));
    }
  }

  /** Ends the download; {@link #awaitStopped} returns once the resource has taken note. */
  private void finish(IOException failure) {
    try {
      resource.fetchEnded(this, cancelled ? null : failure);
    } finally {
      stopped.countDown();
    }
  }

  /** Requests until the download is done; returns the failure that ended it, or null. */
  private IOException requestsFrom(int failuresSoFar) {
    Semaphore hostPermits = engine.hostPermits(resource.source());
    int failures = failuresSoFar;
    try {
      while (!cancelled) {
        long target = resource.targetOf(this);
        if (target <= position && resource.currentInfo() != null) {
          if (!resource.awaitDemand(this)) {
            break;
          }
          continue;
        }
        try {
          Outcome outcome;
          hostPermits.acquire();
          try {
            outcome = transfer(target);
          } finally {
            hostPermits.release();
          }
          failures = 0;
          if (outcome != Outcome.REACHED_TARGET) {
            break;
          }
        } catch (IOException e) {
          if (cancelled) {
            break;
          }
          if (!retryable(e) || ++failures > resource.settings().retryAttempts()) {
            return e;
          }
          if (!backoff(failures)) {
            break;
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      return new IOException(e.toString(), e);
    }
    return null;
  }

  /**
   * True if a request that failed with {@code e} may be made again. Not for an origin's error or a mismatched
   * answer, and not for a resource the origin never described: the client is waiting for an answer.
   */
  private boolean retryable(IOException e) {
    return !(e instanceof OriginErrorException || e instanceof RejectedResponseException)
        && resource.currentInfo() != null;
  }

  private boolean backoff(int failures) {
    long millis = Math.min(2000, 100L << Math.min(failures, 5));
    try {
      Thread.sleep(millis);
      return !cancelled;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * What to ask the origin for next, up to {@code target} ({@code Long.MAX_VALUE}: to the end).
   *
   * @param range the {@code Range} header, or null when the origin ignores ranges
   * @param ifRange the {@code If-Range} header, or null
   * @param bounded true when something short of the end is wanted
   */
  record Ask(long from, long target, boolean bounded, String range, String ifRange) {
    /** Sets this ask's {@code Range} and {@code If-Range} headers, if any. */
    void setRangeHeaders(BiConsumer<String, String> header) {
      if (range != null) {
        header.accept("Range", range);
        if (ifRange != null) {
          header.accept("If-Range", ifRange);
        }
      }
    }
  }

  Ask ask(long target) {
    askedAt = System.nanoTime();
    answeredAt = 0;
    long from = position;
    long lengthNow = resource.length();
    // Bounded only when something short of the end is wanted; otherwise the open form, which every origin knows.
    boolean bounded = target != Long.MAX_VALUE && (lengthNow < 0 || target < lengthNow);
    if (resource.rangesUnsupported()) {
      return new Ask(from, target, bounded, null, null);
    }
    return new Ask(from, target, bounded, "bytes=" + from + "-" + (bounded ? String.valueOf(target - 1) : ""),
        resource.ifRangeValidator());
  }

  /** What a response's head means for the body after it. */
  enum Plan { RANGE_BODY, WHOLE_BODY, AT_END, FROM_ZERO, ORIGIN_ERROR }

  /**
   * Learns what a response's head says and decides what to do with its body: a matching 206 ({@link Plan#RANGE_BODY},
   * at {@code ask.from()}); a 200 ({@link Plan#WHOLE_BODY}, from byte 0); nothing left past the end
   * ({@link Plan#AT_END}); a first byte beyond the end of a resource never seen, which is then learned from its start
   * ({@link Plan#FROM_ZERO}, the download now starts at 0); or an error to pass on ({@link Plan#ORIGIN_ERROR}).
   *
   * @param header the response's header of a name, or null
   * @param contentLength the body's length, or -1
   * @param answeredUrl the URL that answered, after redirects
   * @throws RejectedResponseException for a 206 that is not what was asked
   */
  Plan plan(Ask ask, int code, Function<String, String> header, long contentLength, String answeredUrl)
      throws IOException {
    positionAtAnswer = position;
    answeredAt = System.nanoTime();
    ResourceInfo known = resource.currentInfo();
    if (code == 206 && ask.range() != null) {
      ContentRange range = ContentRange.parse(header.apply("Content-Range"));
      long knownLength = known == null ? -1 : known.length();
      if (range == null || range.first() != ask.from() || (ask.bounded() && range.last() > ask.target() - 1)
          || (knownLength >= 0 && range.total() >= 0 && range.total() != knownLength)) {
        throw new RejectedResponseException("origin answered Range bytes=" + ask.from() + "- with Content-Range "
            + header.apply("Content-Range"));
      }
      resource.learnInfo(this, ResourceInfo.from(header, range.total(), answeredUrl, source().toString()));
      return Plan.RANGE_BODY;
    }
    if (code == 200) {
      ResourceInfo fresh = ResourceInfo.from(header, contentLength, answeredUrl, source().toString());
      boolean changed = known != null && known.isOtherVersion(fresh);
      if ((ask.from() > 0 || ask.bounded()) && !changed) {
        resource.markRangesUnsupported(); // Range ignored: read from 0, skip what is present, cache the rest
      }
      resource.learnInfo(this, fresh); // drops the old bytes when the version changed
      return Plan.WHOLE_BODY;
    }
    if (code == 416 && known != null && known.lengthKnown() && ask.from() >= known.length()) {
      return Plan.AT_END;
    }
    if (code == 416 && known == null && ask.from() > 0) {
      start = 0;
      position = 0;
      return Plan.FROM_ZERO;
    }
    return Plan.ORIGIN_ERROR;
  }

  /** One request for {@code [position, target)}. */
  private Outcome transfer(long target) throws IOException {
    Ask ask = ask(target);
    Request.Builder rb = request(resource.settings(), resource.source());
    ask.setRangeHeaders(rb::header);
    Call c = engine.httpFor(resource.settings(), resource.source()).newCall(rb.build());
    abortWith(c::cancel);
    try (Response response = c.execute()) {
      ResponseBody body = response.body();
      Plan plan = plan(ask, response.code(), response::header, body.contentLength(),
          response.request().url().toString());
      return switch (plan) {
        case RANGE_BODY -> copy(body.source(), ask.from(), false, ask.bounded());
        case WHOLE_BODY -> copy(body.source(), 0, true, false);
        case AT_END -> Outcome.AT_END;
        case FROM_ZERO -> transfer(resource.targetOf(this));
        case ORIGIN_ERROR -> throw originError(response);
      };
    }
  }

  private Outcome copy(BufferedSource source, long offset, boolean wholeBody, boolean bounded) throws IOException {
    ByteBuffer buf = CHUNKS.get();
    while (!cancelled) {
      buf.clear();
      int n = source.read(buf);
      if (n < 0) {
        if (bounded && !wholeBody) {
          return rangeEnded(offset);
        }
        resource.reachedEnd(this, offset);
        return Outcome.AT_END;
      }
      buf.flip();
      if (!take(buf, offset, wholeBody)) {
        return Outcome.STOPPED;
      }
      offset += n;
    }
    throw new InterruptedIOException("cancelled");
  }

  /**
   * Hands the resource the body's bytes at {@code offset} and moves on; false when the download should stop.
   */
  boolean take(ByteBuffer bytes, long offset, boolean wholeBody) throws IOException {
    long end = offset + bytes.remaining();
    boolean goOn = resource.accept(this, bytes, offset, wholeBody);
    if (!wholeBody || end > position) {
      position = end;
    }
    return goOn;
  }

  /** How a bounded range request whose body ended at {@code offset} ends: at its target, or at the end. */
  Outcome rangeEnded(long offset) {
    long length = resource.length();
    return length >= 0 && offset >= length ? Outcome.AT_END : Outcome.REACHED_TARGET;
  }

  /** A request of {@code source} with identity encoding and the configured headers. */
  static Request.Builder request(CacheConfig settings, URI source) {
    Request.Builder rb = new Request.Builder().url(source.toString());
    setCommonHeaders(settings, rb::header);
    return rb;
  }

  /**
   * Sets the headers of every origin request: identity encoding and our {@code User-Agent}, then the configured ones,
   * which replace them ({@code header} must replace a name set before, ignoring case, as both clients' builders do).
   */
  static void setCommonHeaders(CacheConfig settings, BiConsumer<String, String> header) {
    header.accept("Accept-Encoding", "identity");
    header.accept("User-Agent", USER_AGENT);
    settings.requestHeaders().forEach(header);
  }

  private URI source() {
    return resource.source();
  }

  private static OriginErrorException originError(Response response) throws IOException {
    ResponseBody body = response.body();
    BufferedSource source = body.source();
    source.request(MAX_ERROR_BODY);
    byte[] bytes = source.getBuffer().size() > MAX_ERROR_BODY
        ? source.getBuffer().readByteArray(MAX_ERROR_BODY)
        : source.getBuffer().readByteArray();
    return new OriginErrorException(response.code(), response.header("Content-Type"), bytes);
  }

  /** A {@code HEAD} to the origin, for a HEAD from a client of a resource never seen. */
  static ResourceInfo head(Engine engine, CacheConfig settings, URI source) throws IOException {
    Request.Builder rb = request(settings, source).head();
    try (Response response = engine.httpFor(settings, source).newCall(rb.build()).execute()) {
      if (response.code() != 200) {
        throw new OriginErrorException(response.code(), response.header("Content-Type"), new byte[0]);
      }
      String length = response.header("Content-Length");
      long parsed = -1;
      if (length != null) {
        try {
          parsed = Long.parseLong(length.trim());
        } catch (NumberFormatException ignored) {
          // Unknown length, as for a chunked body.
        }
      }
      return ResourceInfo.from(response, parsed, source.toString());
    }
  }

  /**
   * A conditional request for the cached version {@code current}: null if the origin answers 304, else the
   * description of what it has now (from a one-byte ranged answer, so a changed resource costs no download here).
   */
  static ResourceInfo revalidate(Engine engine, CacheConfig settings, URI source,
      ResourceInfo current) throws IOException {
    Request.Builder rb = request(settings, source).header("Range", "bytes=0-0");
    if (current.etag() != null) {
      rb.header("If-None-Match", current.etag());
    }
    if (current.lastModified() != null) {
      rb.header("If-Modified-Since", current.lastModified());
    }
    try (Response response = engine.httpFor(settings, source).newCall(rb.build()).execute()) {
      if (response.code() == 304) {
        return null;
      }
      if (response.code() == 206) {
        ContentRange range = ContentRange.parse(response.header("Content-Range"));
        return ResourceInfo.from(response, range == null ? -1 : range.total(), source.toString());
      }
      if (response.code() == 200) {
        return ResourceInfo.from(response, response.body().contentLength(), source.toString());
      }
      throw originError(response);
    }
  }

  /**
   * A request for {@code [from, end)} read by one reader without caching; a 200 (Range ignored) is skipped to
   * {@code from}.
   */
  static DirectStream direct(Engine engine, CacheConfig settings, URI source, long from, long end,
      String validator) throws IOException {
    Request.Builder rb = request(settings, source)
        .header("Range", "bytes=" + from + "-" + (end > 0 ? String.valueOf(end - 1) : ""));
    if (validator != null) {
      rb.header("If-Range", validator);
    }
    Response response = engine.httpFor(settings, source).newCall(rb.build()).execute();
    try {
      BufferedSource body = response.body().source();
      if (response.code() == 206) {
        ContentRange range = ContentRange.parse(response.header("Content-Range"));
        if (range == null || range.first() != from) {
          throw new RejectedResponseException("origin answered Range bytes=" + from + "- with Content-Range "
              + response.header("Content-Range"));
        }
      } else if (response.code() == 200 && (validator == null || validator.equals(response.header("ETag"))
          || validator.equals(response.header("Last-Modified")))) {
        body.skip(from);
      } else {
        throw originError(response);
      }
      return new DirectStream(response, body);
    } catch (IOException | RuntimeException e) {
      response.close();
      throw e;
    }
  }

  /** The origin answered something that must not be cached or retried (a mismatched 206). */
  static final class RejectedResponseException extends IOException {
    RejectedResponseException(String message) {
      super(message);
    }
  }
}
