package io.cachestream.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TcpCorkTest {

  @Test
  void nativeTransportLoadsOnLinux() {
    boolean linux = System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux");
    assumeTrue(linux, "native epoll exists only on Linux");
    assertThat(Epoll.isAvailable()).as("native epoll: %s", Epoll.unavailabilityCause()).isTrue();
  }

  @Test
  void corksAnEpollConnectionAndUncorkingSendsWhatWasHeldBack() throws Exception {
    withAcceptedEpollConnection((connection, client) -> {
      boolean corked = connection.eventLoop().submit(() -> TcpCork.on(connection)).get();
      assertThat(corked).isTrue();
      assertThat(connection.config().isTcpCork()).isTrue();
      connection.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {1, 2, 3})).sync();

      connection.eventLoop().submit(() -> TcpCork.off(connection)).get();
      assertThat(connection.config().isTcpCork()).isFalse();
      InputStream in = client.getInputStream();
      assertThat(in.readNBytes(3)).containsExactly(1, 2, 3);
    });
  }

  /** ProxyServer sets no {@code TCP_NODELAY} option on the connections it accepts: it relies on this default. */
  @Test
  void nettyTurnsNagleOffOnAcceptedConnectionsByDefault() throws Exception {
    withAcceptedEpollConnection((connection, client) -> assertThat(connection.config().isTcpNoDelay()).isTrue());
  }

  private interface AcceptedConnectionTest {
    void run(EpollSocketChannel connection, Socket client) throws Exception;
  }

  /** Runs {@code test} on a connection accepted by an epoll server that sets no options. */
  private static void withAcceptedEpollConnection(AcceptedConnectionTest test) throws Exception {
    assumeTrue(Epoll.isAvailable(), "native epoll is not available here");
    EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    try {
      CompletableFuture<Channel> accepted = new CompletableFuture<>();
      Channel server = new ServerBootstrap().group(loop).channel(EpollServerSocketChannel.class)
          .childHandler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) {
              accepted.complete(ctx.channel());
            }
          })
          .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
      try (Socket client = new Socket("127.0.0.1", ((InetSocketAddress) server.localAddress()).getPort())) {
        client.setSoTimeout(5000);
        test.run((EpollSocketChannel) accepted.get(5, TimeUnit.SECONDS), client);
      } finally {
        server.close().sync();
      }
    } finally {
      loop.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
    }
  }

  @Test
  void doesNothingWhereTheTransportCannotCork() {
    EmbeddedChannel channel = new EmbeddedChannel();
    assertThat(TcpCork.on(channel)).isFalse();
    TcpCork.off(channel); // no effect, no exception
    assertThat(channel.isOpen()).isTrue();
  }
}
