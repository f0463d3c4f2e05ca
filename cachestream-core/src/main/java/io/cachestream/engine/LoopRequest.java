package io.cachestream.engine;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * The first request of a {@link Fetch}, issued from the event loop of the client that asked for it: connect, request,
 * head and body all run on that loop, so a cold client's response head is written the moment the origin's arrives,
 * with no hand-off to a download thread and back (measured: most of the gap between a cold first byte here and
 * nginx's). The body is written to the cache file as it arrives, as nginx's proxy does on its worker. A connection
 * whose response was read to its end and may be kept alive goes to the loop's {@link IdleConnections} for the next
 * such request to the same origin; a kept connection the origin closed meanwhile is replaced by a new one, once.
 *
 * <p>For {@code http} and {@code https} origins reached directly (no proxy configured); a host name is looked up off
 * the loop ({@link HostAddresses}), and its addresses are tried in order. TLS is Netty's handler over the JDK's
 * engine, with the same trust as the blocking client and the host name checked against the certificate. When the
 * request ends, whatever comes next (more requests, retries, redirects, which are asked again by the blocking client,
 * which follows them) goes on on a download thread: {@link Fetch#continueOnThread}.
 */
final class LoopRequest extends ChannelInboundHandlerAdapter {
  private final Fetch fetch;
  private final Resource resource;
  private final Engine engine;
  private final EventLoop loop;
  private final Fetch.Ask ask;
  private final Semaphore permits;
  /** TLS settings for an {@code https} origin, else null. */
  private final SslContext tls;
  /** {@code scheme://host:port} as the URL names it: kept connections are found by it. */
  private final String origin;
  /** The origin's addresses, tried in order when connecting fails. */
  private final List<InetSocketAddress> addresses;
  private final int attempt;
  private Channel channel;
  /** True on a kept connection: if it fails before any answer, the origin closed it while idle. */
  private boolean reused;
  private Fetch.Plan plan;
  /** Between an interim (1xx) response's head and its end. */
  private boolean interim;
  private boolean keepAlive;
  private boolean complete;
  private long offset;
  private boolean ended;
  private int errorCode;
  private String errorType;
  private ByteBuf errorBody;

  private LoopRequest(Fetch fetch, Resource resource, Engine engine, EventLoop loop, Fetch.Ask ask,
      Semaphore permits, SslContext tls, String origin, List<InetSocketAddress> addresses, int attempt) {
    this.fetch = fetch;
    this.resource = resource;
    this.engine = engine;
    this.loop = loop;
    this.ask = ask;
    this.permits = permits;
    this.tls = tls;
    this.origin = origin;
    this.addresses = addresses;
    this.attempt = attempt;
  }

  /** True if a request for {@code source} can be issued from an event loop: straight to the origin. */
  static boolean canIssue(URI source) {
    List<Proxy> proxies = ProxySelector.getDefault() == null ? List.of() : ProxySelector.getDefault().select(source);
    return proxies.isEmpty() || proxies.get(0).type() == Proxy.Type.DIRECT;
  }

  /** Issues {@code fetch}'s next request from {@code loop} (the current thread), or hands it to a download thread. */
  static void issue(Fetch fetch, Resource resource, Engine engine, EventLoop loop) {
    URI source = resource.source();
    Semaphore permits = engine.hostPermits(source);
    long target = resource.targetOf(fetch);
    boolean https = "https".equals(source.getScheme());
    SslContext tls = https ? engine.loopTls() : null;
    if (fetch.isCancelled() || (target <= fetch.position() && resource.currentInfo() != null)
        || (https && tls == null) || !permits.tryAcquire()) {
      // A wait (for demand, for a permit, for the TLS settings at start-up) is the download thread's job.
      fetch.continueOnThread(null, null, 0);
      return;
    }
    Fetch.Ask ask = fetch.ask(target);
    String host = source.getHost();
    int port = source.getPort() >= 0 ? source.getPort() : https ? 443 : 80;
    String origin = source.getScheme() + "://" + host + ":" + port;
    BiConsumer<List<InetAddress>, IOException> connect = (found, failure) -> {
      if (failure != null || fetch.isCancelled()) {
        permits.release();
        fetch.continueOnThread(null, failure, 0);
        return;
      }
      List<InetSocketAddress> addresses = found.stream().map(a -> new InetSocketAddress(a, port)).toList();
      LoopRequest request = new LoopRequest(fetch, resource, engine, loop, ask, permits, tls, origin, addresses, 0);
      engine.loopLoad().downloadStarted(loop); // until the last end() of this request and its retries
      try {
        request.send(engine.idleConnections(loop).take(origin));
      } catch (RuntimeException e) {
        request.end(null, new IOException(e.toString(), e)); // never leave a download, and its readers, hanging
      }
    };
    try {
      List<InetAddress> known = engine.hostAddresses.known(host);
      if (known != null) {
        connect.accept(known, null);
      } else {
        engine.hostAddresses.lookUp(host, loop, connect);
      }
    } catch (IOException e) {
      connect.accept(null, e);
    } catch (RuntimeException e) {
      connect.accept(null, new IOException(e.toString(), e)); // the engine is closing: never leave a download hanging
    }
  }

  /** Sends the request on {@code kept}, or on a new connection when null. */
  private void send(Channel kept) {
    if (kept != null) {
      reused = true;
      channel = kept;
      fetch.abortWith(kept::close);
      addTo(kept.pipeline());
      write();
      return;
    }
    ChannelFuture connecting = engine.upstreamBootstrap(loop).handler(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        if (tls != null) {
          // The name for SNI and for checking the certificate, which the handshake does before any request leaves.
          ch.pipeline().addLast(tls.newHandler(ch.alloc(), HostAddresses.unbracketed(resource.source().getHost()),
              addresses.get(attempt).getPort()));
        }
        // Body pieces as large as the socket reads them (64 KiB at most), not the codec's default 8 KiB: one file
        // write per read.
        ch.pipeline().addLast(new HttpClientCodec(new HttpDecoderConfig().setMaxChunkSize(64 * 1024), false, false));
        addTo(ch.pipeline());
      }
    }).connect(addresses.get(attempt));
    channel = connecting.channel();
    fetch.abortWith(channel::close);
    connecting.addListener((ChannelFuture f) -> {
      if (f.isSuccess()) {
        write();
      } else if (attempt + 1 < addresses.size() && !fetch.isCancelled()) {
        ended = true;
        withAttempt(attempt + 1).send(null);
      } else {
        end(null, new IOException("cannot connect to " + origin + " at " + addresses.get(attempt) + ": "
            + f.cause().getMessage(), f.cause()));
      }
    });
  }

  /** The same request again, to be sent on a new connection to address number {@code nextAttempt}. */
  private LoopRequest withAttempt(int nextAttempt) {
    return new LoopRequest(fetch, resource, engine, loop, ask, permits, tls, origin, addresses, nextAttempt);
  }

  private void addTo(ChannelPipeline pipeline) {
    long readTimeoutMillis = resource.settings().readTimeout().toMillis();
    if (readTimeoutMillis > 0) {
      pipeline.addLast(new ReadTimeoutHandler(readTimeoutMillis, TimeUnit.MILLISECONDS));
    }
    pipeline.addLast(this);
  }

  private void write() {
    channel.writeAndFlush(toOrigin(resource.source())).addListener((ChannelFuture f) -> {
      if (!f.isSuccess()) {
        end(null, new IOException("cannot send the request: " + f.cause().getMessage(), f.cause()));
      }
    });
  }

  private DefaultFullHttpRequest toOrigin(URI source) {
    String path = source.getRawPath() == null || source.getRawPath().isEmpty() ? "/" : source.getRawPath();
    String target = source.getRawQuery() == null ? path : path + "?" + source.getRawQuery();
    var request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, target, Unpooled.EMPTY_BUFFER);
    HttpHeaders headers = request.headers();
    headers.set(HttpHeaderNames.HOST, source.getPort() < 0 ? source.getHost() : source.getHost() + ":"
        + source.getPort());
    Fetch.setCommonHeaders(resource.settings(), headers::set);
    ask.setRangeHeaders(headers::set);
    return request;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (!ended) {
        read((HttpObject) msg);
      }
    } catch (IOException e) {
      end(null, e);
    } catch (RuntimeException e) {
      end(null, new IOException(e.toString(), e));
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void read(HttpObject msg) throws IOException {
    if (msg.decoderResult().isFailure()) {
      throw new IOException("malformed response from the origin: " + msg.decoderResult().cause().getMessage(),
          msg.decoderResult().cause());
    }
    if (msg instanceof HttpResponse response) {
      head(response);
    }
    if (msg instanceof HttpContent content && !ended) {
      body(content);
    }
  }

  private void head(HttpResponse response) throws IOException {
    int code = response.status().code();
    if (code < 200) {
      interim = true; // 100 Continue, 103 Early Hints: the answer follows
      return;
    }
    keepAlive = HttpUtil.isKeepAlive(response);
    if (code >= 300 && code < 400 && response.headers().contains(HttpHeaderNames.LOCATION)) {
      end(null, null); // asked again by the blocking client, which follows redirects
      return;
    }
    plan = fetch.plan(ask, code, response.headers()::get, HttpUtil.getContentLength(response, -1L),
        resource.source().toString());
    switch (plan) {
      case RANGE_BODY -> offset = ask.from();
      case WHOLE_BODY -> offset = 0;
      case AT_END -> end(Fetch.Outcome.STOPPED, null); // nothing left to ask for: done
      case FROM_ZERO -> end(null, null); // the download now starts at 0: the next request asks for that
      case ORIGIN_ERROR -> {
        errorCode = code;
        errorType = response.headers().get(HttpHeaderNames.CONTENT_TYPE);
        errorBody = channel.alloc().buffer();
      }
    }
  }

  private void body(HttpContent content) throws IOException {
    if (interim) {
      interim = !(content instanceof LastHttpContent);
      return;
    }
    ByteBuf bytes = content.content();
    complete = content instanceof LastHttpContent;
    if (plan == Fetch.Plan.ORIGIN_ERROR) {
      errorBody.writeBytes(bytes, Math.min(bytes.readableBytes(), Fetch.MAX_ERROR_BODY - errorBody.readableBytes()));
      if (complete || errorBody.readableBytes() >= Fetch.MAX_ERROR_BODY) {
        byte[] body = new byte[errorBody.readableBytes()];
        errorBody.readBytes(body);
        end(null, new OriginErrorException(errorCode, errorType, body));
      }
      return;
    }
    boolean wholeBody = plan == Fetch.Plan.WHOLE_BODY;
    if (bytes.isReadable()) {
      for (ByteBuffer buffer : bytes.nioBuffers()) {
        int n = buffer.remaining();
        if (!fetch.take(buffer, offset, wholeBody)) {
          end(Fetch.Outcome.STOPPED, null); // the connection is kept only if this was the body's last piece
          return;
        }
        offset += n;
      }
    }
    if (complete) {
      boolean bounded = ask.bounded() && !wholeBody;
      end(bounded ? fetch.rangeEnded(offset) : Fetch.Outcome.AT_END, null);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    end(null, new IOException("the origin closed the connection "
        + (plan == null ? "before its response" : "at byte " + offset + " of its body")));
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    end(null, cause instanceof ReadTimeoutException
        ? new SocketTimeoutException("read timed out")
        : cause instanceof IOException io ? io : new IOException(cause.toString(), cause));
  }

  /**
   * Ends this request once: keeps or closes the connection, gives back the permit and lets a download thread go on
   * ({@code outcome} null: with the next request, or with {@code failure}).
   */
  private void end(Fetch.Outcome outcome, IOException failure) {
    if (ended) {
      return;
    }
    ended = true;
    if (errorBody != null) {
      errorBody.release();
    }
    if (failure != null && reused && plan == null && !fetch.isCancelled() && channel != null) {
      // A kept connection the origin closed while it was idle: ask again on a new one, as HTTP clients do.
      channel.close();
      withAttempt(0).send(null);
      return;
    }
    boolean reusable = complete && keepAlive && (failure == null || failure instanceof OriginErrorException);
    if (channel != null && reusable && channel.isActive()) {
      ChannelPipeline pipeline = channel.pipeline();
      pipeline.remove(this);
      if (pipeline.get(ReadTimeoutHandler.class) != null) {
        pipeline.remove(ReadTimeoutHandler.class);
      }
      engine.idleConnections(loop).give(origin, channel);
    } else if (channel != null) {
      channel.close();
    }
    permits.release();
    engine.loopLoad().downloadEnded(loop);
    fetch.continueOnThread(outcome, failure, offset);
  }
}
