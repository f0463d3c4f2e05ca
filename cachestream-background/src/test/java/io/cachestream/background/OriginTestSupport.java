package io.cachestream.background;

import java.nio.file.Path;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** A mock origin on loopback and a temporary data dir, started and stopped around each test. */
abstract class OriginTestSupport {
  @TempDir Path dir;
  final MockWebServer server = new MockWebServer();

  @BeforeEach
  void startOrigin() throws Exception {
    Loopback.start(server);
  }

  @AfterEach
  void stopOrigin() {
    server.close();
  }

  String url(String path) {
    return Loopback.url(server, path);
  }
}
