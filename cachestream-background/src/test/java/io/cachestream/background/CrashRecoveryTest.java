package io.cachestream.background;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** SIGKILL of the process running the queue, then a restart: nothing is lost, nothing is torn or mixed. */
@Timeout(120)
class CrashRecoveryTest {
  private static final int REQUESTS = 200;

  @TempDir Path dir;

  /** The body the origin sends for {@code path}: 96 KiB that differ for every path, so a mix-up shows. */
  static byte[] bodyFor(String path) {
    byte[] unit = (path + "|").getBytes(StandardCharsets.UTF_8);
    byte[] body = new byte[96 * 1024];
    for (int i = 0; i < body.length; i++) body[i] = unit[i % unit.length];
    return body;
  }

  @Test
  void killedQueueRunnerLeavesEveryRequestToReachAFinalStateAfterRestart() throws Exception {
    try (MockWebServer server = new MockWebServer()) {
      server.setDispatcher(new Dispatcher() {
        @Override
        public MockResponse dispatch(RecordedRequest request) {
          // Throttled so that the kill lands with calls mid-body.
          return new MockResponse.Builder()
              .body(new okio.Buffer().write(bodyFor(request.getTarget())))
              .throttleBody(16 * 1024, 5, TimeUnit.MILLISECONDS)
              .build();
        }
      });
      Loopback.start(server);

      List<String> ids = new ArrayList<>();
      try (BackgroundHttpClient writer = BackgroundHttpClient.openEnqueueOnly(dir)) {
        for (int i = 0; i < REQUESTS; i++) {
          String path = "/item/" + i;
          ids.add(i % 4 == 0
              ? writer.post(Loopback.url(server, path), RequestSpec.builder().body("n=" + i).retries(2).build()).id()
              : writer.get(Loopback.url(server, path), RequestSpec.retries(2)).id());
        }
      }

      Path log = dir.resolve("child.log");
      Process child = ChildJvm.start(log, List.of("-Xmx64m"), QueueRunnerMain.class, dir.toString());
      try (BackgroundHttpClient observer = BackgroundHttpClient.openEnqueueOnly(dir)) {
        Await.until(Duration.ofSeconds(60), () -> completed(observer) >= 30, () -> "30 completed requests; child log: " + read(log));
        child.destroyForcibly(); // SIGKILL
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        int done = completed(observer);
        System.out.printf("killed with %d of %d completed%n", done, REQUESTS);
        assertThat(done).as("some requests must still be queued or in flight at the kill").isLessThan(REQUESTS);
      }

      try (BackgroundHttpClient restarted = BackgroundHttpClient.open(dir)) {
        assertThat(restarted.isRunningQueue()).as("the dead process's lock is gone").isTrue();
        for (int i = 0; i < REQUESTS; i++) {
          ResponseInfo r = restarted.completion(ids.get(i)).get(60, TimeUnit.SECONDS);
          assertThat(r.statusCode()).isEqualTo(200);
          assertThat(Files.readAllBytes(r.bodyFile())).as("body of request %d", i).isEqualTo(bodyFor("/item/" + i));
          assertThat(r.bodyLength()).isEqualTo(96 * 1024);
        }
        assertThat(restarted.list(s -> !s.isFinal())).isEmpty();
      }
    }
  }

  private static int completed(BackgroundHttpClient client) {
    try {
      return client.list(s -> s.status() == RequestStatus.COMPLETED).size();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String read(Path log) {
    try {
      return Files.readString(log);
    } catch (java.io.IOException e) {
      return "(no log)";
    }
  }
}
