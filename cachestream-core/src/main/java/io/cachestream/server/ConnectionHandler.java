package io.cachestream.server;

import io.cachestream.LocalApi;
import io.cachestream.engine.Resource;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection. Requests are answered strictly one at a time and in order (pipelined ones wait in a
 * short queue; reading pauses meanwhile so the queue stays small).
 */
final class ConnectionHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(ConnectionHandler.class);
  private static final int MAX_QUEUED = 16;
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  private final ProxyServer.ServerContext server;
  private final ArrayDeque<HttpRequest> queue = new ArrayDeque<>();
  private ChannelHandlerContext ctx;
  private boolean busy;
  private IdleSweep idleSweep;
  /** Sweeps of {@link #idleSweep} since the last request was received or answered. */
  private int quietSweeps;
  private ResourceExchange exchange;

  ConnectionHandler(ProxyServer.ServerContext server) {
    this.server = server;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    idleSweep = server.idleSweep(ctx.executor());
    idleSweep.add(this);
  }

  /** Called by each sweep: true once this connection stayed idle through {@link IdleSweep#SWEEPS} of them. */
  boolean quietThroughSweep() {
    if (busy) {
      quietSweeps = 0;
      return false;
    }
    return ++quietSweeps >= IdleSweep.SWEEPS;
  }

  void closeIdle() {
    ctx.close();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof HttpRequest request)) {
      ReferenceCountUtil.release(msg); // the empty last content after a bodyless request (BodyAggregator)
      return;
    }
    quietSweeps = 0;
    queue.add(request);
    if (queue.size() >= MAX_QUEUED) {
      ctx.channel().config().setAutoRead(false);
    }
    if (!busy) {
      next();
    }
  }

  /** Answers the next queued request, if any. */
  private void next() {
    HttpRequest request = queue.poll();
    if (request == null) {
      busy = false;
      ctx.channel().config().setAutoRead(true);
      return;
    }
    busy = true;
    try {
      handle(request);
    } catch (RuntimeException e) {
      log.warn("failed to answer {} {}", request.method(), request.uri(), e);
      ctx.close();
    } finally {
      ReferenceCountUtil.release(request);
    }
  }

  private void handle(HttpRequest request) {
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    if (request.decoderResult().isFailure()) {
      Throwable cause = request.decoderResult().cause();
      HttpResponseStatus status = cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
          : cause instanceof TooLongHttpHeaderException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
          : cause instanceof TooLongFrameException ? HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE
          : HttpResponseStatus.BAD_REQUEST;
      reply(status, "malformed request: " + oneLine(cause), false, false);
      return;
    }
    boolean head = request.method().equals(HttpMethod.HEAD);
    if (!HostCheck.allowed(request.headers().get(HttpHeaderNames.HOST))) {
      reply(HttpResponseStatus.FORBIDDEN, "Host header must name a loopback address or an IP literal", keepAlive,
          head);
      return;
    }
    String target = originForm(request.uri());
    String path = target.indexOf('?') < 0 ? target : target.substring(0, target.indexOf('?'));
    String first = firstSegment(path);
    switch (first) {
      case "" -> reply(HttpResponseStatus.OK, "CacheStream: open " + server.baseUrl
          + "/{http|https}/{host[:port]}/{path} to play a remote file through the cache", keepAlive, head);
      case "healthz" -> reply(HttpResponseStatus.OK, "ok", keepAlive, head);
      case "metrics" -> reply(HttpResponseStatus.OK, metrics(), keepAlive, head);
      case "api" -> api(request, target, keepAlive, head);
      default -> proxy(request, target, keepAlive, head);
    }
  }

  private void proxy(HttpRequest request, String target, boolean keepAlive, boolean head) {
    URI source;
    try {
      source = UrlMapping.toSource(target);
    } catch (UrlMapping.BadRequestException e) {
      reply(HttpResponseStatus.BAD_REQUEST, e.getMessage(), keepAlive, head);
      return;
    }
    if (!head && !request.method().equals(HttpMethod.GET)) {
      var response = Responses.text(HttpResponseStatus.METHOD_NOT_ALLOWED,
          "method " + request.method() + " is not allowed: GET, HEAD");
      response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
      Responses.send(ctx, response, keepAlive, false, this::next);
      return;
    }
    Resource resource;
    try {
      resource = server.engine.acquire(source);
    } catch (IOException | RuntimeException e) {
      reply(HttpResponseStatus.SERVICE_UNAVAILABLE, "cache unavailable: " + oneLine(e), keepAlive, head);
      return;
    }
    exchange = new ResourceExchange(ctx, resource, request, keepAlive, head, server.engine.blockingWork(),
        uri -> UrlMapping.toCacheUrl(server.baseUrl, uri), server.mappedStreams, () -> {
          exchange = null;
          next();
        });
    exchange.start();
  }

  private void api(HttpRequest request, String target, boolean keepAlive, boolean head) {
    String path = target.indexOf('?') < 0 ? target : target.substring(0, target.indexOf('?'));
    String query = target.indexOf('?') < 0 ? "" : target.substring(target.indexOf('?') + 1);
    String rest = path.substring("/api".length());
    String name = firstSegment(rest);
    LocalApi api = server.apis.get(name);
    if (api == null) {
      reply(HttpResponseStatus.NOT_FOUND, "no such API: /api/" + name, keepAlive, head);
      return;
    }
    String method = request.method().name();
    if (!method.equals("GET") && !method.equals("HEAD") && !tokenMatches(request)) {
      reply(HttpResponseStatus.UNAUTHORIZED, "this call needs the daemon token (Authorization: Bearer <token>)",
          keepAlive, head);
      return;
    }
    String below = rest.substring(1 + name.length());
    String subPath = below.isEmpty() ? "/" : below;
    Map<String, String> headers = new HashMap<>();
    request.headers().forEach(h -> headers.put(h.getKey().toLowerCase(Locale.ROOT), h.getValue()));
    byte[] body = request instanceof FullHttpRequest full ? ByteBufUtil.getBytes(full.content()) : new byte[0];
    server.apiThreads.execute(() -> {
      LocalApi.Response answer;
      try {
        answer = api.handle(method, subPath, query, headers, body);
      } catch (IllegalArgumentException e) {
        answer = jsonError(400, e);
      } catch (Exception e) {
        answer = jsonError(500, e);
      }
      LocalApi.Response done = answer;
      ctx.executor().execute(() -> Responses.send(ctx,
          Responses.full(HttpResponseStatus.valueOf(done.status()), done.contentType(), done.body()), keepAlive,
          head, this::next));
    });
  }

  private static LocalApi.Response jsonError(int status, Exception e) {
    try {
      return LocalApi.Response.json(status, JSON.writeValueAsBytes(Map.of("error", oneLine(e))));
    } catch (com.fasterxml.jackson.core.JsonProcessingException impossible) {
      throw new AssertionError(impossible);
    }
  }

  private boolean tokenMatches(HttpRequest request) {
    String auth = request.headers().get(HttpHeaderNames.AUTHORIZATION);
    String given = auth != null && auth.startsWith("Bearer ") ? auth.substring(7).trim()
        : request.headers().get("X-CacheStream-Token");
    return given != null && java.security.MessageDigest.isEqual(
        given.getBytes(StandardCharsets.UTF_8), server.token.getBytes(StandardCharsets.UTF_8));
  }

  private String metrics() {
    var live = server.engine.liveResources();
    long downloading = live.stream().filter(Resource::isDownloading).count();
    return "cachestream_live_streams " + live.size() + "\ncachestream_downloading_streams " + downloading;
  }

  private void reply(HttpResponseStatus status, String text, boolean keepAlive, boolean head) {
    Responses.send(ctx, Responses.text(status, text), keepAlive, head, this::next);
  }

  /** Turns an absolute-form target ({@code http://127.0.0.1:4612/x}, as proxies send) into origin form. */
  private static String originForm(String uri) {
    if (uri.startsWith("http://") || uri.startsWith("https://")) {
      int slash = uri.indexOf('/', uri.indexOf("//") + 2);
      return slash < 0 ? "/" : uri.substring(slash);
    }
    return uri;
  }

  private static String firstSegment(String path) {
    if (path.length() <= 1) {
      return "";
    }
    int end = path.indexOf('/', 1);
    return end < 0 ? path.substring(1) : path.substring(1, end);
  }

  static String oneLine(Throwable e) {
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    idleSweep.remove(this);
    if (exchange != null) {
      exchange.abandon();
      exchange = null;
    }
    HttpRequest r;
    while ((r = queue.poll()) != null) {
      ReferenceCountUtil.release(r);
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("connection error: {}", cause.toString());
    ctx.close();
  }
}
