package io.cachestream.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachestream.CacheConfig;
import io.cachestream.store.CacheStore;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okio.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A download issued from an event loop counts as that loop's load from its first request until it stops streaming
 * there, so that the server hands new clients to another loop meanwhile.
 */
@Timeout(30)
class LoopLoadTest {
  @TempDir Path dir;
  private final MockWebServer origin = new MockWebServer();
  private final EventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final List<String> events = new CopyOnWriteArrayList<>();
  private Engine engine;

  @AfterEach
  void stop() throws Exception {
    if (engine != null) {
      engine.close();
    }
    loops.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    origin.close();
  }

  @Test
  void aDownloadCountsOnItsLoopWhileItStreamsAndNoLongerOnceItEnds() throws Exception {
    byte[] body = new byte[256 * 1024];
    new Random(7).nextBytes(body);
    // About half a second of streaming: long enough to see the download under way.
    origin.enqueue(new MockResponse.Builder().code(200).body(new Buffer().write(body))
        .throttleBody(32 * 1024, 60, TimeUnit.MILLISECONDS).build());
    origin.start(InetAddress.getByName("127.0.0.1"), 0);
    EventLoop loop = loops.next();
    engine = new Engine(CacheConfig.builder().port(0).cacheDir(dir).build(), CacheStore.open(dir));
    engine.serveOn(loops, NioSocketChannel.class, new LoopLoad() {
      @Override
      public void downloadStarted(EventLoop on) {
        events.add("started on " + (on == loop ? "its loop" : on) + (on.inEventLoop() ? "" : ", off the loop"));
      }

      @Override
      public void downloadEnded(EventLoop on) {
        events.add("ended on " + (on == loop ? "its loop" : on));
      }
    });
    URI source = URI.create("http://127.0.0.1:" + origin.getPort() + "/streamed.bin");

    Resource resource = loop.submit(() -> {
      Resource r = engine.acquire(source);
      r.open(0);
      return r;
    }).get(5, TimeUnit.SECONDS);
    awaitEvents(1);
    assertThat(resource.isComplete()).isFalse();
    assertThat(events).containsExactly("started on its loop");

    awaitEvents(2);
    assertThat(resource.isComplete()).isTrue();
    assertThat(events).containsExactly("started on its loop", "ended on its loop");
    loop.submit(() -> resource.release()).get(5, TimeUnit.SECONDS);
  }

  private void awaitEvents(int count) throws InterruptedException {
    for (int i = 0; i < 500 && events.size() < count; i++) {
      Thread.sleep(10);
    }
    assertThat(events).hasSizeGreaterThanOrEqualTo(count);
  }
}
