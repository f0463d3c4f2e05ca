package io.cachestream.server;

import io.cachestream.LocalApi;
import io.cachestream.engine.Engine;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ThreadPerTaskExecutor;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The local HTTP server (Netty; native epoll on Linux, NIO elsewhere): proxy URLs of the URL contract, plus the
 * reserved paths {@code /}, {@code /healthz}, {@code /metrics} and {@code /api/...}.
 */
public final class ProxyServer implements Closeable {
  static final int MAX_INITIAL_LINE = 8192;
  static final int MAX_HEADER_SIZE = 16384;
  static final int MAX_API_BODY = 16 << 20;
  /** Connections idle about this long (no request received or being answered) are closed ({@link IdleSweep}). */
  private static final Duration IDLE = Duration.ofSeconds(120);

  private final EventLoopGroup loops;
  private final ExecutorService apiThreads;
  private final Channel serverChannel;
  private final String baseUrl;

  private ProxyServer(EventLoopGroup loops, ExecutorService apiThreads, Channel channel, String baseUrl) {
    this.loops = loops;
    this.apiThreads = apiThreads;
    this.serverChannel = channel;
    this.baseUrl = baseUrl;
  }

  /**
   * Binds and starts serving.
   *
   * @param token the token mutating API calls must carry
   * @throws IOException if the address cannot be bound (port in use, say)
   */
  public static ProxyServer start(Engine engine, String token, Map<String, LocalApi> apis) throws IOException {
    var config = engine.config();
    // One event loop per core, the listening socket on one of them (no separate acceptor): on a small machine every
    // extra thread and every accept-to-worker hand-off shows in the first byte of a cold request (measured here:
    // 0.1 ms less to the first byte than Netty's default of two loops per core plus an acceptor, same throughput).
    // For the same reason a connection stays on the loop that accepted it unless another loop has fewer
    // (LoopChooser).
    // Native epoll where it loads (Linux): it can cork a response (TcpCork) and wakes a loop faster than NIO's
    // selector (measured here: 0.1-0.2 ms less to a cold first byte). NIO elsewhere: the same, without the cork.
    boolean epoll = Epoll.isAvailable();
    LoopChooser chooser = new LoopChooser();
    EventLoopGroup loops = new MultiThreadIoEventLoopGroup(Runtime.getRuntime().availableProcessors(),
        new ThreadPerTaskExecutor(new DefaultThreadFactory("cachestream-server")), chooser,
        epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    // Taken by iterating, not from the chooser, which counts client connections and downloads.
    EventLoop acceptor = (EventLoop) loops.iterator().next();
    AtomicInteger n = new AtomicInteger();
    ExecutorService apiThreads = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "cachestream-api-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    ServerContext context = new ServerContext(engine, token, apis, apiThreads, IDLE);
    try {
      Channel channel = new ServerBootstrap()
          .group(acceptor, loops)
          .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
          .option(ChannelOption.SO_BACKLOG, 1024)
          // No TCP_NODELAY child option: Netty's socket channels set it already, and the option costs a second
          // setsockopt per connection.
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              chooser.countUntilClosed(ch);
              ch.pipeline()
                  .addLast(new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADER_SIZE, 8192))
                  .addLast(new BodyAggregator(MAX_API_BODY))
                  .addLast(new ConnectionHandler(context));
            }
          })
          .bind(new InetSocketAddress(config.bindAddress(), config.port()))
          .sync()
          .channel();
      InetSocketAddress bound = (InetSocketAddress) channel.localAddress();
      String host = bound.getAddress().getHostAddress();
      if (host.contains(":")) {
        host = "[" + host + "]";
      }
      String base = "http://" + host + ":" + bound.getPort();
      context.baseUrl = base;
      engine.serveOn(loops, epoll ? EpollSocketChannel.class : NioSocketChannel.class, chooser);
      return new ProxyServer(loops, apiThreads, channel, base);
    } catch (Exception e) {
      loops.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      apiThreads.shutdownNow();
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IOException("cannot listen on " + config.bindAddress() + ":" + config.port() + ": " + e.getMessage(),
          e);
    }
  }

  /** The base URL, for example {@code http://127.0.0.1:4612}, without a trailing slash. */
  public String baseUrl() {
    return baseUrl;
  }

  public int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  @Override
  public void close() {
    serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    apiThreads.shutdownNow();
  }

  /** What every connection of one server shares. */
  static final class ServerContext {
    final Engine engine;
    final String token;
    final Map<String, LocalApi> apis;
    final ExecutorService apiThreads;
    final Semaphore mappedStreams = new Semaphore(ResourceExchange.MAPPED_STREAMS);
    private final Duration idle;
    private final Map<EventExecutor, IdleSweep> idleSweeps = new ConcurrentHashMap<>();
    volatile String baseUrl;

    ServerContext(Engine engine, String token, Map<String, LocalApi> apis, ExecutorService apiThreads,
        Duration idle) {
      this.engine = engine;
      this.token = token;
      this.apis = Map.copyOf(apis);
      this.apiThreads = apiThreads;
      this.idle = idle;
    }

    /** The idle sweep of {@code loop}'s connections, started with the loop's first connection. */
    IdleSweep idleSweep(EventExecutor loop) {
      return idleSweeps.computeIfAbsent(loop, l -> IdleSweep.start(l, idle));
    }
  }
}
