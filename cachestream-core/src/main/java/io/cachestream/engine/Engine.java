package io.cachestream.engine;

import io.cachestream.CacheConfig;
import io.cachestream.LifecycleTimer;
import io.cachestream.net.NoDelaySocketFactory;
import io.cachestream.store.CacheEntry;
import io.cachestream.store.CacheStore;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.EventExecutor;
import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import okhttp3.ConnectionPool;
import okhttp3.Dns;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the live {@link Resource}s (one per cache key while in use), the upstream clients (OkHttp on download
 * threads; Netty's from the server's event loops, see {@link Fetch}) and the threads that download. Thread-safe.
 */
public final class Engine implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(Engine.class);

  final CacheConfig config;
  final CacheStore store;
  /**
   * The upstream clients, built off the caller's thread: OkHttp reads the platform's trust store as it is built, a
   * fifth of the daemon's start-up. The first download waits for them if it comes sooner.
   */
  private final CompletableFuture<UpstreamClients> http;
  final ExecutorService fetchThreads;
  /** Connections to origins from the server's event loops, once {@link #serveOn} named them; else null. */
  private volatile Bootstrap upstream;
  private volatile LoopLoad loopLoad = LoopLoad.NONE;
  private final Map<EventLoop, IdleConnections> idleConnections = new ConcurrentHashMap<>();
  /** Origin host names' addresses for requests from event loops. */
  final HostAddresses hostAddresses;
  final ScheduledExecutorService timers;
  final LifecycleTimer lifecycleTimer;
  private final Map<String, Resource> resources = new HashMap<>();
  private final Map<String, Semaphore> hostPermits = new ConcurrentHashMap<>();
  private boolean closed;
  final CacheIndex index = new CacheIndex();
  private final AtomicBoolean evictionScheduled = new AtomicBoolean();

  public Engine(CacheConfig config, CacheStore store) {
    this(config, store, Dns.SYSTEM, null);
  }

  /**
   * With {@code dns} looking up origin host names and {@code trust} deciding which origin certificates to trust
   * (null: the platform's trust store), for both upstream clients.
   */
  Engine(CacheConfig config, CacheStore store, Dns dns, X509TrustManager trust) {
    this.config = config;
    this.store = store;
    this.fetchThreads = Executors.newCachedThreadPool(daemonThreads("cachestream-fetch"));
    this.hostAddresses = new HostAddresses(dns, fetchThreads);
    this.timers = Executors.newSingleThreadScheduledExecutor(daemonThreads("cachestream-timer"));
    this.lifecycleTimer = config.lifecycleTimer() != null ? config.lifecycleTimer() : new WholeSecondTimer(timers);
    this.http = CompletableFuture.supplyAsync(() -> UpstreamClients.build(config, dns, trust), fetchThreads);
    // Sizes of the entries on disk, for the budget: read in the background so that start-up stays instant.
    timers.execute(() -> {
      for (var meta : store.listMetas()) {
        index.discovered(meta.key(), meta.lastAccess(), meta.cachedBytes());
      }
      bytesStored();
    });
  }

  /** Called as bytes are stored; schedules eviction (never on the caller's thread) when over the budget. */
  void bytesStored() {
    Long max = config.maxCacheBytes();
    if (max != null && index.totalBytes() > max && evictionScheduled.compareAndSet(false, true)) {
      timers.execute(this::evict);
    }
  }

  /** Deletes least recently used entries that nobody holds until the cache fits its budget. */
  private void evict() {
    evictionScheduled.set(false);
    Long max = config.maxCacheBytes();
    if (max == null) {
      return;
    }
    for (String key : index.leastRecentlyUsedFirst()) {
      if (index.totalBytes() <= max) {
        return;
      }
      stopIdleDownloads(key);
      long bytes = index.bytesOf(key);
      synchronized (resources) {
        Resource live = resources.get(key);
        if (live != null) {
          if (!live.isIdle() || live.isDownloading()) {
            continue; // in use: never evicted
          }
          resources.remove(key);
          live.dispose();
        }
        try {
          store.delete(key);
          index.remove(key);
          log.info("evicted a cache entry of {} bytes to stay within maxCacheBytes {}", bytes, max);
        } catch (IOException e) {
          log.warn("cannot evict {}: {}", store.entryDir(key), e.toString());
        }
      }
    }
  }

  /**
   * Deletes the entry of {@code key} unless it is in use; returns false if it is.
   *
   * @throws IOException if its files cannot be deleted
   */
  public boolean deleteIfIdle(String key) throws IOException {
    stopIdleDownloads(key);
    synchronized (resources) {
      Resource live = resources.get(key);
      if (live != null) {
        if (!live.isIdle() || live.isDownloading()) {
          return false;
        }
        resources.remove(key);
        live.dispose();
      }
      store.delete(key);
      index.remove(key);
      return true;
    }
  }

  /**
   * Stops the downloads of {@code key}'s resource if nobody holds it, before it is disposed of under the engine's
   * lock: a download issued from an event loop needs its loop to stop, and the loops take that lock.
   */
  private void stopIdleDownloads(String key) {
    Resource live = live(key);
    if (live != null && live.isIdle()) {
      live.stopDownloads();
    }
  }

  static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** The connections one origin host may have open at once ({@link CacheConfig#maxConnectionsPerHost()}). */
  Semaphore hostPermits(URI source) {
    String host = source.getHost() + ":" + source.getPort();
    return hostPermits.computeIfAbsent(host, h -> new Semaphore(config.maxConnectionsPerHost(), true));
  }

  /**
   * The upstream client for {@code source} under {@code settings}: the shared one, or a view of it (same
   * connection pool) with another read timeout.
   */
  OkHttpClient httpFor(CacheConfig settings, URI source) {
    UpstreamClients clients = http.join();
    OkHttpClient base = isIpLiteral(source.getHost()) ? clients.oneAddress() : clients.any();
    return settings.readTimeout().equals(config.readTimeout()) ? base
        : base.newBuilder().readTimeout(settings.readTimeout()).build();
  }

  /**
   * The TLS settings for requests from event loops (the platform's trust store, or the engine's trust manager, and
   * host-name verification), or null while the upstream clients are still being built.
   */
  SslContext loopTls() {
    return http.isDone() && !http.isCompletedExceptionally() ? http.join().loopTls() : null;
  }

  /** One connection pool, two ways to connect; and TLS for the event loops' requests. */
  private record UpstreamClients(OkHttpClient any, OkHttpClient oneAddress, SslContext loopTls) {
    static UpstreamClients build(CacheConfig config, Dns dns, X509TrustManager trust) {
      OkHttpClient.Builder builder = new OkHttpClient.Builder();
      SslContextBuilder loopTls = SslContextBuilder.forClient().sslProvider(SslProvider.JDK)
          .endpointIdentificationAlgorithm("HTTPS");
      if (trust != null) {
        try {
          SSLContext tls = SSLContext.getInstance("TLS");
          tls.init(null, new TrustManager[] {trust}, null);
          builder.sslSocketFactory(tls.getSocketFactory(), trust);
        } catch (GeneralSecurityException e) {
          throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
        }
        loopTls.trustManager(trust);
      }
      OkHttpClient any = builder
          .socketFactory(new NoDelaySocketFactory())
          .dns(dns)
          .connectionPool(new ConnectionPool(32, 5, TimeUnit.MINUTES))
          .connectTimeout(config.connectTimeout())
          .readTimeout(config.readTimeout())
          .followRedirects(true)
          .followSslRedirects(true)
          .retryOnConnectionFailure(true)
          .build();
      // Fast fallback races an origin's addresses on helper threads; an IP literal has one address, so its requests
      // connect on the download thread and skip that hand-off (a few hundred microseconds of every cold request).
      try {
        return new UpstreamClients(any, any.newBuilder().fastFallback(false).build(), loopTls.build());
      } catch (SSLException e) {
        throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
      }
    }
  }

  static boolean isIpLiteral(String host) {
    return host != null && (host.startsWith("[") || host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9')));
  }

  /**
   * Lets downloads that clients of {@code loops} ask for issue their first request from the client's own loop
   * (see {@link Fetch}), over connections of {@code socketChannelType}, the loops' transport; {@code load} is told
   * when such a download starts and stops streaming on its loop.
   */
  public void serveOn(EventLoopGroup loops, Class<? extends SocketChannel> socketChannelType, LoopLoad load) {
    this.loopLoad = load;
    this.upstream = new Bootstrap()
        .group(loops)
        .channel(socketChannelType)
        .option(ChannelOption.TCP_NODELAY, true)
        // One socket read (64 KiB, then its file write) per turn of the loop, not Netty's 16: a download streaming
        // at loopback speed would otherwise hold the loop for milliseconds at a time, and every client on that loop
        // would wait that long for its next step.
        .option(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator().maxMessagesPerRead(1))
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
            config.connectTimeout().toMillis()));
  }

  /** Told when downloads start and stop streaming on the server's event loops. */
  LoopLoad loopLoad() {
    return loopLoad;
  }

  /** The server's event loop running the calling thread, or null. */
  EventLoop currentLoop() {
    Bootstrap b = upstream;
    if (b == null) {
      return null;
    }
    for (EventExecutor loop : b.config().group()) {
      if (loop.inEventLoop()) {
        return (EventLoop) loop;
      }
    }
    return null;
  }

  /** A bootstrap for a connection to an origin from {@code loop}; its handler is the caller's to set. */
  Bootstrap upstreamBootstrap(EventLoop loop) {
    return upstream.clone(loop);
  }

  /** The idle keep-alive connections of {@code loop}, for use from that loop only. */
  IdleConnections idleConnections(EventLoop loop) {
    return idleConnections.computeIfAbsent(loop, l -> new IdleConnections());
  }

  /** Threads for blocking work on behalf of readers (pass-through streams). */
  public Executor blockingWork() {
    return fetchThreads;
  }

  public CacheConfig config() {
    return config;
  }


  /**
   * Takes a hold on the resource of {@code source}, opening it if needed. Every call must be paired with
   * {@link Resource#release()}.
   *
   * @throws IOException if the entry's files cannot be opened
   * @throws IllegalStateException after {@link #close()}
   */
  public Resource acquire(URI source) throws IOException {
    return acquire(source, true);
  }

  /**
   * Like {@link #acquire(URI)}; with {@code wholeFile} false the hold keeps the resource open without asking for
   * the whole-file download (a partial preload), and is given back with {@link Resource#release(boolean)}.
   */
  public Resource acquire(URI source, boolean wholeFile) throws IOException {
    String key = config.cacheKey(source);
    synchronized (resources) {
      if (closed) {
        throw new IllegalStateException("engine is closed");
      }
      Resource resource = resources.get(key);
      if (resource == null) {
        CacheEntry entry = store.openEntry(key);
        resource = new Resource(this, key, source, entry);
        resources.put(key, resource);
      }
      resource.hold(wholeFile);
      index.touch(key, System.currentTimeMillis());
      return resource;
    }
  }

  /** The live resource of {@code key}, or null. */
  public Resource live(String key) {
    synchronized (resources) {
      return resources.get(key);
    }
  }

  /** Live resources, a snapshot. */
  public List<Resource> liveResources() {
    synchronized (resources) {
      return new ArrayList<>(resources.values());
    }
  }

  /** Disposes {@code resource} now unless someone holds it (its idle time ran out, or a stream was closed). */
  public void disposeIfIdle(Resource resource) {
    synchronized (resources) {
      if (!resource.isIdle() || resources.get(resource.key()) != resource) {
        return;
      }
      resources.remove(resource.key());
    }
    resource.dispose();
  }

  /** Stops every download, checkpoints and closes every resource. */
  @Override
  public void close() {
    List<Resource> all;
    synchronized (resources) {
      closed = true;
      all = new ArrayList<>(resources.values());
      resources.clear();
    }
    for (Resource resource : all) {
      resource.dispose();
    }
    timers.shutdownNow();
    fetchThreads.shutdownNow();
    try {
      fetchThreads.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    http.thenAccept(clients -> clients.any().connectionPool().evictAll());
    log.debug("engine closed");
  }
}
