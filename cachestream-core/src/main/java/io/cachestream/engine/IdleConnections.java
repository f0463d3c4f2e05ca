package io.cachestream.engine;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive connections to origins that {@link LoopRequest}s of one event loop left idle, for the next request to
 * the same origin from that loop (which then skips the connect). Confined to its loop: no locks.
 */
final class IdleConnections {
  /** Idle connections kept per origin; more are closed. */
  static final int MAX_PER_ORIGIN = 4;
  /** How long one is kept idle: below the usual server keep-alive timeouts (nginx: 75 s). */
  static final long KEEP_SECONDS = 60;
  private static final AttributeKey<ScheduledFuture<?>> EXPIRY = AttributeKey.valueOf("cachestream.idleExpiry");
  private static final ChannelHandler GUARD = new Guard();

  private final Map<String, ArrayDeque<Channel>> idle = new HashMap<>();

  /** An open idle connection to {@code origin} ({@code host:port}), now the caller's, or null. */
  Channel take(String origin) {
    ArrayDeque<Channel> channels = idle.get(origin);
    Channel found = null;
    while (found == null && channels != null && !channels.isEmpty()) {
      Channel channel = channels.pollLast(); // the most recently used: the least likely to have timed out
      ScheduledFuture<?> expiry = channel.attr(EXPIRY).getAndSet(null);
      if (expiry != null) {
        expiry.cancel(false);
      }
      // A connection closed meanwhile has lost its handlers already: only an open one gets its guard removed.
      if (channel.isActive() && channel.pipeline().context(GUARD) != null) {
        channel.pipeline().remove(GUARD);
        found = channel;
      } else {
        channel.close();
      }
    }
    if (channels != null && channels.isEmpty()) {
      idle.remove(origin);
    }
    return found;
  }

  /** Keeps {@code channel}, whose last response was read to its end, for the next request to {@code origin}. */
  void give(String origin, Channel channel) {
    ArrayDeque<Channel> channels = idle.computeIfAbsent(origin, o -> new ArrayDeque<>());
    if (channels.size() >= MAX_PER_ORIGIN || !channel.isActive()) {
      channel.close();
      return;
    }
    channel.pipeline().addLast(GUARD);
    channels.addLast(channel);
    channel.attr(EXPIRY).set(channel.eventLoop().schedule(() -> {
      channels.remove(channel);
      if (channels.isEmpty() && idle.get(origin) == channels) {
        idle.remove(origin);
      }
      channel.close();
    }, KEEP_SECONDS, TimeUnit.SECONDS));
  }

  /** Closes an idle connection that the origin writes to or fails: nothing is asked of it. */
  @ChannelHandler.Sharable
  private static final class Guard extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
      ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
