package io.cachestream.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachestream.LocalApi;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Connections through the server's pipeline on Netty's embedded channel, whose clock the test moves. */
class IdleSweepTest {
  private static final Duration IDLE = Duration.ofSeconds(120);

  /** Runs the API's work when the test says so, on the test's thread (the embedded channel's loop). */
  private final ManualExecutor apiThreads = new ManualExecutor();
  private final ProxyServer.ServerContext server = new ProxyServer.ServerContext(null, "token",
      Map.of("test", (method, path, query, headers, body) -> LocalApi.Response.json(200, "{}".getBytes())),
      apiThreads, IDLE);

  @Test
  void closesAConnectionThatSendsNothingForTheIdlePeriod() {
    EmbeddedChannel connection = connection();
    advanceSeconds(connection, 110);
    assertThat(connection.isOpen()).as("idle through three sweeps").isTrue();
    advanceSeconds(connection, 10);
    assertThat(connection.isOpen()).as("idle through four sweeps, 120 s").isFalse();
  }

  @Test
  void aRequestStartsTheIdlePeriodAfresh() {
    EmbeddedChannel connection = connection();
    advanceSeconds(connection, 100);
    connection.writeInbound(request("/healthz"));
    assertThat(response(connection)).startsWith("HTTP/1.1 200");
    advanceSeconds(connection, 90);
    assertThat(connection.isOpen()).as("90 s after the request").isTrue();
    advanceSeconds(connection, 30);
    assertThat(connection.isOpen()).as("120 s after the request").isFalse();
  }

  @Test
  void neverClosesAConnectionWhileItsAnswerIsUnderWay() {
    EmbeddedChannel connection = connection();
    connection.writeInbound(request("/api/test/x"));
    advanceSeconds(connection, 300);
    assertThat(connection.isOpen()).as("answer still under way after 300 s").isTrue();

    apiThreads.runAll();
    connection.runPendingTasks();
    assertThat(response(connection)).startsWith("HTTP/1.1 200");
    advanceSeconds(connection, 90);
    assertThat(connection.isOpen()).isTrue();
    advanceSeconds(connection, 30);
    assertThat(connection.isOpen()).as("120 s after the answer").isFalse();
  }

  @Test
  void aClosedConnectionLeavesTheSweep() {
    EmbeddedChannel connection = connection();
    IdleSweep sweep = server.idleSweep(connection.eventLoop());
    assertThat(sweep.size()).isEqualTo(1);
    connection.close();
    assertThat(sweep.size()).as("a closed connection must not stay referenced").isZero();
  }

  private EmbeddedChannel connection() {
    EmbeddedChannel channel = new EmbeddedChannel();
    channel.freezeTime();
    channel.pipeline().addLast(new HttpServerCodec(ProxyServer.MAX_INITIAL_LINE, ProxyServer.MAX_HEADER_SIZE, 8192),
        new BodyAggregator(ProxyServer.MAX_API_BODY), new ConnectionHandler(server));
    return channel;
  }

  /** Moves the channel's clock in steps of ten seconds, running what falls due at each. */
  private static void advanceSeconds(EmbeddedChannel channel, int seconds) {
    for (int s = 0; s < seconds; s += 10) {
      channel.advanceTimeBy(10, TimeUnit.SECONDS);
      channel.runScheduledPendingTasks();
    }
  }

  private static ByteBuf request(String path) {
    return Unpooled.copiedBuffer("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", StandardCharsets.US_ASCII);
  }

  private static String response(EmbeddedChannel channel) {
    StringBuilder text = new StringBuilder();
    for (Object out; (out = channel.readOutbound()) != null; ) {
      ByteBuf bytes = (ByteBuf) out;
      text.append(bytes.toString(StandardCharsets.US_ASCII));
      bytes.release();
    }
    return text.toString();
  }

  private static final class ManualExecutor extends AbstractExecutorService {
    private final Queue<Runnable> tasks = new ArrayDeque<>();

    void runAll() {
      for (Runnable task; (task = tasks.poll()) != null; ) {
        task.run();
      }
    }

    @Override
    public void execute(Runnable command) {
      tasks.add(command);
    }

    @Override
    public void shutdown() {}

    @Override
    public List<Runnable> shutdownNow() {
      return List.of();
    }

    @Override
    public boolean isShutdown() {
      return false;
    }

    @Override
    public boolean isTerminated() {
      return false;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return false;
    }
  }
}
