package io.cachestream.engine;

import io.netty.channel.EventLoop;

/**
 * The downloads streaming on the server's event loops, for the server's choice of a loop for each new connection: a
 * loop writing a download to the cache is busy however few clients it has. See {@link Engine#serveOn}.
 */
public interface LoopLoad {
  /** Counts nothing. */
  LoopLoad NONE = new LoopLoad() {
    @Override
    public void downloadStarted(EventLoop loop) {}

    @Override
    public void downloadEnded(EventLoop loop) {}
  };

  /** A download began streaming on {@code loop}, from that loop's thread. */
  void downloadStarted(EventLoop loop);

  /** A download that {@linkplain #downloadStarted started} on {@code loop} stopped streaming there. */
  void downloadEnded(EventLoop loop);
}
