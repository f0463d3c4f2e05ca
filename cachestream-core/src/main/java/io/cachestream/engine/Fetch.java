package io.cachestream.engine;

import io.cachestream.CacheConfig;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
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
 */
final class Fetch implements Runnable {
  static final int MAX_ERROR_BODY = 1 << 20;
  private static final int CHUNK = 64 * 1024;
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
  private volatile boolean cancelled;
  private volatile Call call;

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
    Call c = call;
    if (c != null) {
      c.cancel();
    }
  }

  void awaitStopped() {
    try {
      stopped.await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** How one request ended. */
  private enum Outcome { STOPPED, REACHED_TARGET, AT_END }

  @Override
  public void run() {
    IOException failure = null;
    Semaphore hostPermits = engine.hostPermits(resource.source());
    try {
      int failures = 0;
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
        } catch (OriginErrorException | RejectedResponseException e) {
          failure = e;
          break;
        } catch (IOException e) {
          if (cancelled) {
            break;
          }
          // A resource the origin never described gets no retries: the client is waiting for an answer.
          if (resource.currentInfo() == null || ++failures > resource.settings().retryAttempts()) {
            failure = e;
            break;
          }
          if (!backoff(failures)) {
            break;
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      failure = new IOException(e.toString(), e);
    } finally {
      stopped.countDown();
      resource.fetchEnded(this, cancelled ? null : failure);
    }
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

  /** One request for {@code [position, target)} ({@code target} {@code Long.MAX_VALUE}: to the end). */
  private Outcome transfer(long target) throws IOException {
    boolean ranged = !resource.rangesUnsupported();
    long from = position;
    long lengthNow = resource.length();
    // Bounded only when something short of the end is wanted; otherwise the open form, which every origin knows.
    boolean bounded = target != Long.MAX_VALUE && (lengthNow < 0 || target < lengthNow);
    Request.Builder rb = request(resource.settings(), resource.source());
    if (ranged) {
      rb.header("Range", "bytes=" + from + "-" + (bounded ? String.valueOf(target - 1) : ""));
      String validator = resource.ifRangeValidator();
      if (validator != null) {
        rb.header("If-Range", validator);
      }
    }
    Call c = engine.httpFor(resource.settings(), resource.source()).newCall(rb.build());
    call = c;
    if (cancelled) {
      c.cancel();
    }
    try (Response response = c.execute()) {
      ResponseBody body = response.body();
      ResourceInfo known = resource.currentInfo();
      long streamOffset;
      boolean wholeBody;
      if (response.code() == 206 && ranged) {
        ContentRange range = ContentRange.parse(response.header("Content-Range"));
        long knownLength = known == null ? -1 : known.length();
        if (range == null || range.first() != from || (bounded && range.last() > target - 1)
            || (knownLength >= 0 && range.total() >= 0 && range.total() != knownLength)) {
          throw new RejectedResponseException("origin answered Range bytes=" + from + "- with Content-Range "
              + response.header("Content-Range"));
        }
        resource.learnInfo(this, ResourceInfo.from(response, range.total(), source().toString()));
        streamOffset = from;
        wholeBody = false;
      } else if (response.code() == 200) {
        long length = body.contentLength();
        ResourceInfo fresh = ResourceInfo.from(response, length, source().toString());
        boolean changed = known != null && known.isOtherVersion(fresh);
        if ((from > 0 || bounded) && !changed) {
          resource.markRangesUnsupported(); // Range ignored: read from 0, skip what is present, cache the rest
        }
        resource.learnInfo(this, fresh); // drops the old bytes when the version changed
        streamOffset = 0;
        wholeBody = true;
      } else if (response.code() == 416 && known != null && known.lengthKnown() && from >= known.length()) {
        return Outcome.AT_END;
      } else if (response.code() == 416 && known == null && from > 0) {
        // The first byte asked for lies beyond the end: learn the resource from its start instead.
        response.close();
        start = 0;
        position = 0;
        return transfer(resource.targetOf(this));
      } else {
        throw originError(response);
      }
      return copy(body.source(), streamOffset, wholeBody, ranged && bounded);
    }
  }

  private Outcome copy(BufferedSource source, long offset, boolean wholeBody, boolean bounded) throws IOException {
    ByteBuffer buf = CHUNKS.get();
    while (!cancelled) {
      buf.clear();
      int n = source.read(buf);
      if (n < 0) {
        if (bounded && !wholeBody) {
          long length = resource.length();
          return length >= 0 && offset >= length ? Outcome.AT_END : Outcome.REACHED_TARGET;
        }
        resource.reachedEnd(this, offset);
        return Outcome.AT_END;
      }
      buf.flip();
      boolean goOn = resource.accept(this, buf, offset, wholeBody);
      offset += n;
      if (!wholeBody || offset > position) {
        position = offset;
      }
      if (!goOn) {
        return Outcome.STOPPED;
      }
    }
    throw new InterruptedIOException("cancelled");
  }

  /** A request of {@code source} with identity encoding and the configured headers. */
  static Request.Builder request(CacheConfig settings, URI source) {
    Request.Builder rb = new Request.Builder().url(source.toString()).header("Accept-Encoding", "identity");
    settings.requestHeaders().forEach(rb::header);
    return rb;
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
