package io.cachestream.server;

import io.cachestream.CacheConfig;
import io.cachestream.TransferMode;
import io.cachestream.engine.DirectStream;
import io.cachestream.engine.OriginErrorException;
import io.cachestream.engine.Resource;
import io.cachestream.engine.ResourceInfo;
import io.cachestream.engine.StorageFailedException;
import io.cachestream.hls.Playlist;
import io.cachestream.store.MappedSpan;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.Future;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Answers one GET or HEAD of a proxied resource: waits for the origin's description, sends the head, then streams
 * the body from the data file as bytes become present — zero-copy file regions, at most two writes in flight, so
 * a connection holds no buffered body however slow its client is.
 *
 * <p>Runs on the connection's event loop; download-side callbacks hop onto it.
 */
final class ResourceExchange {
  /** Largest single region write. */
  private static final long MAX_REGION = 4L << 20;
  /**
   * The corked first region: the head and one loopback-sized segment of body leave together, then the rest streams
   * uncorked. Measured with wrk on a hot 1 MiB file: 1.3x the req/s of corking the whole first 4 MiB region (whose
   * burst also nearly doubled p99) and 1.5x that of not corking; 16 KiB gave 0.9x and 256 KiB 0.8x of this.
   */
  private static final long CORKED_REGION = 64 << 10;
  private static final int PASS_THROUGH_CHUNK = 64 * 1024;
  /** Region writes outstanding per connection: two keep the socket busy; regions hold no memory. */
  private static final int MAX_IN_FLIGHT = 2;
  /**
   * Bodies at least this long of a complete resource go out from mapped windows under {@link TransferMode#AUTO}:
   * for one long stream a copy from a kept mapping measured faster than {@code sendfile}; for many short hot bodies
   * at once, {@code sendfile}, which copies nothing on the server's cores, measured faster.
   */
  static final long MAPPED_MIN_BODY = 16L << 20;
  /**
   * Mapped streams at once under {@link TransferMode#AUTO}, per server: a mapped write copies into the socket's
   * buffer, so a thousand slow clients of one hot file would hold a thousand buffers' worth of copies in the kernel,
   * where file regions hold page references. The streams past this many go out as file regions.
   */
  static final int MAPPED_STREAMS = 4;

  private final ChannelHandlerContext ctx;
  private final Resource resource;
  private final ByteRangeRequest range;
  private final String ifRange;
  private final boolean keepAlive;
  private final boolean head;
  private final Runnable whenDone;
  private final Executor blockingWork;
  private int generation;
  private int failuresSeen;
  private long position;
  /** Exclusive end of the body, or -1 while unknown (a chunked response until the origin's body ends). */
  private long end;
  private boolean finished;
  /** The last content was written: nothing more may be. */
  private boolean ended;
  private int inFlight;
  /** The head waits in the socket for the first region (see {@link TcpCork}). */
  private boolean corked;
  /** The body goes out from mapped windows ({@link MappedSpan}s) rather than as file regions. */
  private boolean mapped;
  /** Permits for {@link #MAPPED_STREAMS}, shared by the server's exchanges. */
  private final Semaphore mappedStreams;
  private boolean holdsMappedPermit;
  /** A wake-up for missing bytes is registered: exactly one pump may wait, or pass through, at a time. */
  private boolean waiting;
  /** The playlist bytes gathered so far, when this resource is an HLS playlist. */
  private ByteArrayOutputStream playlist;
  private final UnaryOperator<URI> toProxy;

  ResourceExchange(ChannelHandlerContext ctx, Resource resource, HttpRequest request,
      boolean keepAlive, boolean head, Executor blockingWork, UnaryOperator<URI> toProxy, Semaphore mappedStreams,
      Runnable whenDone) {
    this.ctx = ctx;
    this.mappedStreams = mappedStreams;
    this.toProxy = toProxy;
    this.blockingWork = blockingWork;
    this.resource = resource;
    this.range = ByteRangeRequest.parse(request.headers().get(HttpHeaderNames.RANGE));
    this.ifRange = request.headers().get(HttpHeaderNames.IF_RANGE);
    this.keepAlive = keepAlive;
    this.head = head;
    this.whenDone = whenDone;
  }

  void start() {
    try {
      resource.refreshIfStale();
    } catch (IOException e) {
      sendError(e);
      return;
    }
    generation = resource.generation();
    CompletableFuture<ResourceInfo> info = head ? resource.head() : resource.open(range.startHint());
    info.whenComplete((i, e) -> {
      if (ctx.executor().inEventLoop()) {
        onInfo(i, e); // already known (the hot path): no extra hop through the task queue
      } else {
        ctx.executor().execute(() -> onInfo(i, e));
      }
    });
  }

  /** The client went away: give the resource back; the shared download goes on for others. */
  void abandon() {
    finish();
  }

  private void onInfo(ResourceInfo info, Throwable error) {
    if (finished) {
      return;
    }
    if (error != null) {
      sendError(error instanceof CompletionException && error.getCause() != null ? error.getCause() : error);
      return;
    }
    generation = resource.generation();
    failuresSeen = resource.failures();
    if (Playlist.looksLikePlaylist(resource.source(), info.contentType())
        && (!info.lengthKnown() || info.length() <= Playlist.MAX_SIZE)) {
      playlist = new ByteArrayOutputStream();
      collectPlaylist();
      return;
    }
    if (!info.lengthKnown() && range.isSingle() && !ignoreRange(info)) {
      // A range of a body of unknown length is answered once the length is known.
      resource.await(Long.MAX_VALUE, generation, failuresSeen,
          failure -> ctx.executor().execute(() -> {
            if (failure != null) {
              sendError(failure);
            } else {
              onInfo(resource.info(), null);
            }
          }));
      return;
    }
    sendHead(info);
  }

  /** Gathers the whole playlist (they are small), then answers it rewritten. */
  private void collectPlaylist() {
    if (finished) {
      return;
    }
    if (resource.generation() != generation) {
      abort();
      return;
    }
    long length = resource.length();
    if (length < 0 || length > Playlist.MAX_SIZE) {
      if (length > Playlist.MAX_SIZE) {
        playlist = null;
        sendHead(resource.info()); // too big for a playlist: plain bytes
        return;
      }
      resource.await(Long.MAX_VALUE, generation, failuresSeen, afterWait(this::collectPlaylist));
      return;
    }
    try {
      while (position < length) {
        long available = resource.available(position);
        if (available == 0) {
          resource.await(position, generation, failuresSeen, afterWait(this::collectPlaylist));
          return;
        }
        ByteBuffer chunk = ByteBuffer.allocate((int) available);
        while (chunk.hasRemaining()) {
          if (resource.channel().read(chunk, position + chunk.position()) < 0) {
            throw new IOException("cache data ended early");
          }
        }
        playlist.write(chunk.array(), 0, chunk.capacity());
        position += available;
      }
    } catch (IOException e) {
      abort();
      return;
    }
    sendPlaylist(resource.info(), playlist.toByteArray());
  }

  private Consumer<IOException> afterWait(Runnable next) {
    return failure -> ctx.executor().execute(() -> {
      if (failure != null) {
        abort();
      } else {
        next.run();
      }
    });
  }

  private void sendPlaylist(ResourceInfo info, byte[] body) {
    byte[] answer = body;
    boolean live = false;
    if (Playlist.hasPlaylistHeader(body)) {
      Playlist parsed = Playlist.parse(body);
      URI base = info.finalUrl() != null ? URI.create(info.finalUrl()) : resource.source();
      answer = parsed.rewrite(base, toProxy, info.finalUrl() != null);
      if (!parsed.isEnded()) {
        live = true;
        // A live playlist is refetched once older than half its target duration (at least a second).
        long seconds = Math.max(1, parsed.targetDurationSeconds());
        resource.markLive(Duration.ofMillis(Math.max(1000, seconds * 500)));
      }
    }
    var response = Responses.full(HttpResponseStatus.OK, null, answer);
    copyOriginHeaders(info, response.headers());
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, answer.length);
    if (live) {
      response.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
    }
    finish();
    Responses.send(ctx, response, keepAlive, head, whenDone);
  }

  private boolean ignoreRange(ResourceInfo info) {
    if (ifRange == null) {
      return false;
    }
    // If-Range: the range applies only if the client's validator is still current (strong ETag or exact date).
    String etag = info.etag();
    boolean matches = (etag != null && !etag.startsWith("W/") && etag.equals(ifRange))
        || (info.lastModified() != null && info.lastModified().equals(ifRange));
    return !matches;
  }

  private void sendHead(ResourceInfo info) {
    long length = info.length();
    long[] span = ignoreRange(info) ? null : range.resolve(length);
    HttpResponse response;
    if (span == ByteRangeRequest.UNSATISFIABLE) {
      var full = Responses.text(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
          "range not satisfiable: the resource has " + length + " bytes");
      full.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + length);
      full.headers().set(HttpHeaderNames.ACCEPT_RANGES, HttpHeaderValues.BYTES);
      finish();
      Responses.send(ctx, full, keepAlive, head, whenDone);
      return;
    }
    if (span != null) {
      response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.PARTIAL_CONTENT);
      response.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes " + span[0] + "-" + span[1] + "/" + length);
      position = span[0];
      end = span[1] + 1;
    } else {
      response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
      position = 0;
      end = length;
    }
    HttpHeaders h = response.headers();
    copyOriginHeaders(info, h);
    h.set(HttpHeaderNames.ACCEPT_RANGES, HttpHeaderValues.BYTES);
    if (end >= 0) {
      h.set(HttpHeaderNames.CONTENT_LENGTH, end - position);
    } else {
      HttpUtil.setTransferEncodingChunked(response, true);
    }
    if (!keepAlive) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    // A body at hand joins its head in full segments; a body still to come must not hold the head back.
    corked = !head && resource.available(position) > 0 && TcpCork.on(ctx.channel());
    TransferMode mode = resource.settings().transferMode();
    if (!holdsMappedPermit && mode == TransferMode.AUTO && end - position >= MAPPED_MIN_BODY
        && resource.isComplete()) {
      holdsMappedPermit = mappedStreams.tryAcquire();
    }
    mapped = mode == TransferMode.MMAP || holdsMappedPermit;
    ctx.write(response);
    if (head) {
      ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(this::afterLast);
      return;
    }
    // No flush yet: when the body is at hand, head, body and end go out in one flush.
    resource.readerAt(this, position, end >= 0 ? end : Long.MAX_VALUE);
    pump();
  }

  private void copyOriginHeaders(ResourceInfo info, HttpHeaders h) {
    CacheConfig config = resource.settings();
    if (config.copyCachedResponseHeaders()) {
      info.headers().forEach(h::set);
    } else {
      for (String name : new String[] {"content-type", "etag", "last-modified"}) {
        String value = info.headers().get(name);
        if (value != null) {
          h.set(name, value);
        }
      }
    }
    if (!h.contains(HttpHeaderNames.CONTENT_TYPE)) {
      h.set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
    }
    for (Map.Entry<String, String> extra : config.responseHeaders().entrySet()) {
      h.set(extra.getKey(), extra.getValue());
    }
  }

  /**
   * Sends what is present at the position (up to {@link #MAX_IN_FLIGHT} region writes outstanding, so the socket
   * never waits for the next write to be issued), or waits for it; the end of the body ends the response.
   */
  private void pump() {
    if (finished || ended || waiting) {
      return; // a pump already waits for bytes (two write completions can each schedule one)
    }
    if (resource.generation() != generation) {
      abort(); // the origin's version changed under this response: never mix two versions
      return;
    }
    long bodyEnd = end >= 0 ? end : resource.length();
    while (inFlight < MAX_IN_FLIGHT) {
      if (bodyEnd >= 0 && position >= bodyEnd) {
        ended = true;
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(this::afterLast);
        return;
      }
      long available = resource.available(position);
      if (available == 0) {
        break;
      }
      long count = Math.min(available, corked ? CORKED_REGION : MAX_REGION);
      if (bodyEnd >= 0) {
        count = Math.min(count, bodyEnd - position);
      }
      Object chunk;
      MappedSpan span = null;
      if (mapped) {
        try {
          span = resource.mapped(position, (int) count);
        } catch (IOException | RuntimeException e) {
          abort();
          return;
        }
        if (span == null) {
          abort(); // present bytes past the end of the data file: never pad
          return;
        }
        chunk = Unpooled.wrappedBuffer(span.buffer());
        count = span.buffer().remaining();
      } else {
        chunk = new SharedFileRegion(resource.channel(), position, count);
      }
      ChannelFuture write = ctx.write(chunk);
      if (span != null) {
        // Written or failed (the connection closed with it queued): either way the kernel is done with it.
        MappedSpan sent = span;
        write.addListener(f -> sent.release());
      }
      position += count;
      if (bodyEnd >= 0 && position >= bodyEnd) {
        ended = true;
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(this::afterLast);
        return;
      }
      inFlight++;
      write.addListener((ChannelFutureListener) f -> {
        uncork(); // the head went out with the first region: a long body streams uncorked, at full speed
        inFlight--;
        if (f.isSuccess()) {
          resource.readerAt(this, position, end >= 0 ? end : Long.MAX_VALUE);
          // Always through the executor: a write that completes at once must not recurse.
          ctx.executor().execute(this::pump);
        } else {
          abort();
        }
      });
    }
    if (inFlight > 0) {
      ctx.flush(); // a completed write calls pump again
      return;
    }
    uncork();
    ctx.flush(); // the head, or what was written, goes out while this reader waits
    waiting = true;
    resource.await(position, generation, failuresSeen, failure -> ctx.executor().execute(() -> {
      waiting = false;
      if (failure instanceof StorageFailedException) {
        passThrough(bodyEnd);
      } else if (failure != null) {
        abort(); // the body stays short: never padded, never guessed
      } else {
        pump();
      }
    }));
  }

  /**
   * The cache cannot store this resource: the rest of the body comes straight from the origin, one chunk in
   * flight at a time (a download thread blocks on each write, so memory stays bounded).
   */
  private void passThrough(long bodyEnd) {
    if (finished || ended) {
      return;
    }
    ended = true; // from here on only the pass-through writes this response
    long from = position;
    blockingWork.execute(() -> {
      try (DirectStream direct = resource.openDirect(from, bodyEnd)) {
        byte[] chunk = new byte[PASS_THROUGH_CHUNK];
        int n;
        while ((n = direct.read(chunk)) >= 0) {
          ByteBuf buf = ctx.alloc().buffer(n).writeBytes(chunk, 0, n);
          if (!ctx.writeAndFlush(buf).awaitUninterruptibly().isSuccess()) {
            ctx.executor().execute(this::abort);
            return;
          }
          position += n;
        }
        ctx.executor().execute(() -> {
          if (bodyEnd >= 0 && position < bodyEnd) {
            abort();
          } else if (!finished) {
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(this::afterLast);
          }
        });
      } catch (IOException | RuntimeException e) {
        ctx.executor().execute(this::abort);
      }
    });
  }

  private void uncork() {
    if (corked) {
      corked = false;
      TcpCork.off(ctx.channel());
    }
  }

  private void afterLast(Future<? super Void> f) {
    uncork();
    finish();
    if (!f.isSuccess() || !keepAlive) {
      ctx.close();
    } else {
      whenDone.run();
    }
  }

  private void sendError(Throwable error) {
    finish();
    if (error instanceof OriginErrorException origin) {
      Responses.send(ctx, Responses.full(HttpResponseStatus.valueOf(origin.status()), origin.contentType(),
          origin.body()), keepAlive, head, whenDone);
    } else if (error instanceof IOException) {
      Responses.send(ctx, Responses.text(HttpResponseStatus.BAD_GATEWAY,
          "origin failed: " + ConnectionHandler.oneLine(error)), keepAlive, head, whenDone);
    } else {
      Responses.send(ctx, Responses.text(HttpResponseStatus.INTERNAL_SERVER_ERROR,
          "internal error: " + ConnectionHandler.oneLine(error)), false, head, whenDone);
    }
  }

  private void abort() {
    finish();
    ctx.close();
  }

  private void finish() {
    if (!finished) {
      finished = true;
      if (holdsMappedPermit) {
        mappedStreams.release();
      }
      resource.readerGone(this);
      resource.release();
    }
  }
}
