package io.cachestream.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Small complete responses: errors with a one-line reason, API answers. */
final class Responses {
  private static final int LINGER_SECONDS = 2;

  private Responses() {}

  static FullHttpResponse text(HttpResponseStatus status, String text) {
    return full(status, "text/plain; charset=utf-8", (text + "\n").getBytes(StandardCharsets.UTF_8));
  }

  static FullHttpResponse full(HttpResponseStatus status, String contentType, byte[] body) {
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
    if (contentType != null) {
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    }
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    return response;
  }

  /** Writes a complete response; closes the connection after it unless {@code keepAlive}. */
  static void send(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive, boolean head,
      Runnable whenSent) {
    if (!keepAlive) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    if (head) {
      // Keep Content-Length, drop the body: a HEAD answer describes the GET one.
      response.content().clear();
    }
    ctx.writeAndFlush(response).addListener((ChannelFutureListener) f -> {
      if (!f.isSuccess()) {
        f.channel().close();
      } else if (!keepAlive) {
        closeGently(f.channel());
      } else {
        whenSent.run();
      }
    });
  }

  /**
   * Closes after a response: the output first, so that a client still sending (an oversized header, a body nobody
   * reads) reads the answer rather than a reset, which closing with unread input would send; the rest when the
   * client hangs up, or after {@link #LINGER_SECONDS}.
   */
  private static void closeGently(Channel channel) {
    if (channel instanceof DuplexChannel duplex && channel.isActive()) {
      duplex.shutdownOutput();
      channel.eventLoop().schedule(() -> channel.close(), LINGER_SECONDS, TimeUnit.SECONDS);
    } else {
      channel.close();
    }
  }
}
