package io.cachestream.background;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockResponseBody;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okio.BufferedSink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** 200 MiB up and down through a client whose JVM has a 64 MiB heap: bodies must stream, never sit in memory. */
@Timeout(120)
class LargeTransferTest {
  private static final long SIZE = 200L * 1024 * 1024;

  @TempDir Path dir;

  /** Generates the pattern body on the fly, so the server holds no copy either. */
  private static MockResponseBody patternBody(long size) {
    return new MockResponseBody() {
      @Override
      public long getContentLength() {
        return size;
      }

      @Override
      public void writeTo(BufferedSink sink) throws java.io.IOException {
        byte[] chunk = new byte[64 * 1024];
        for (long written = 0; written < size; ) {
          int n = (int) Math.min(chunk.length, size - written);
          for (int j = 0; j < n; j++) chunk[j] = LargeTransferMain.patternByte(written + j);
          sink.write(chunk, 0, n);
          written += n;
        }
      }
    };
  }

  @Test
  void twoHundredMebibyteUploadAndDownloadStreamWithinA64MebibyteHeap() throws Exception {
    try (MockWebServer server = new MockWebServer()) {
      server.setBodyLimit(0); // count uploaded bytes, keep none
      server.setDispatcher(new Dispatcher() {
        @Override
        public MockResponse dispatch(RecordedRequest request) {
          if (request.getMethod().equals("POST")) return new MockResponse.Builder().body("received " + request.getBodySize()).build();
          return new MockResponse.Builder().body(patternBody(SIZE)).build();
        }
      });
      Loopback.start(server);

      Path log = dir.resolve("child.log");
      Process child =
          ChildJvm.start(
              log,
              List.of("-Xmx64m", "-XX:+ExitOnOutOfMemoryError"),
              LargeTransferMain.class,
              dir.toString(),
              Loopback.url(server, "/upload"),
              Loopback.url(server, "/download"),
              Long.toString(SIZE));
      if (!child.waitFor(100, TimeUnit.SECONDS)) {
        child.destroyForcibly();
        throw new AssertionError("child did not finish: " + Files.readString(log));
      }
      String output = Files.readString(log);
      assertThat(child.exitValue()).as(output).isZero();
      assertThat(output).contains("upload 200 received " + SIZE);
      assertThat(output).contains("download 200 " + SIZE);

      Path downloaded = Path.of(output.lines().filter(l -> l.startsWith("download ")).findFirst().orElseThrow().split(" ")[3]);
      assertThat(Files.size(downloaded)).isEqualTo(SIZE);
      try (InputStream in = Files.newInputStream(downloaded)) {
        byte[] buffer = new byte[64 * 1024];
        long offset = 0;
        for (int n; (n = in.read(buffer)) != -1; offset += n) {
          for (int j = 0; j < n; j++) {
            if (buffer[j] != LargeTransferMain.patternByte(offset + j)) throw new AssertionError("wrong byte at " + (offset + j));
          }
        }
      }
    }
  }
}
