package io.cachestream.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachestream.CacheConfig;
import io.cachestream.server.ProxyServer;
import io.cachestream.store.CacheStore;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An origin named by a host name is asked from the client's event loop too: the name is looked up on a download
 * thread (with the engine's resolver, the one the blocking client also uses), remembered, and its addresses are tried
 * in order.
 */
@Timeout(60)
class HostNamedOriginTest {
  @TempDir Path dir;
  private final MockWebServer origin = new MockWebServer();
  private final List<String> lookups = new CopyOnWriteArrayList<>();
  private final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private Engine engine;
  private ProxyServer server;

  @BeforeEach
  void start() throws Exception {
    origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        requests.add(request);
        return new MockResponse.Builder().code(200).body("body of " + request.getUrl().encodedPath()).build();
      }
    });
    origin.start(InetAddress.getByName("127.0.0.1"), 0);
    CacheConfig config = CacheConfig.builder().port(0).cacheDir(dir).build();
    engine = new Engine(config, CacheStore.open(dir), host -> {
      lookups.add(host);
      if (host.equals("two.test")) {
        // Nothing listens on 127.0.0.2: the first address fails, the second answers.
        return List.of(InetAddress.getByName("127.0.0.2"), InetAddress.getByName("127.0.0.1"));
      }
      throw new UnknownHostException(host + ": no such host");
    });
    server = ProxyServer.start(engine, "token", Map.of());
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    engine.close();
    origin.close();
  }

  private HttpResponse<String> get(String hostAndPath) throws Exception {
    URI url = URI.create(server.baseUrl() + "/http/" + hostAndPath);
    return client.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  @Test
  void aHostNameIsLookedUpOnceAndItsAddressesAreTriedInOrderFromTheLoop() throws Exception {
    String host = "two.test:" + origin.getPort();

    assertThat(get(host + "/a").body()).isEqualTo("body of /a");
    assertThat(get(host + "/b").body()).isEqualTo("body of /b");
    assertThat(lookups).containsExactly("two.test");
    assertThat(requests).hasSize(2).allSatisfy(r -> {
      assertThat(r.getHeaders().get("Host")).isEqualTo(host);
      assertThat(r.getHeaders().get("Connection")).as("asked from the loop, not by OkHttp").isNull();
    });
    assertThat(requests.get(1).getConnectionIndex()).as("the kept connection, found by the name")
        .isEqualTo(requests.get(0).getConnectionIndex());
  }

  @Test
  void aHostNameThatDoesNotResolveIsABadGatewayNamingIt() throws Exception {
    HttpResponse<String> response = get("nowhere.test:" + origin.getPort() + "/x");

    assertThat(response.statusCode()).isEqualTo(502);
    assertThat(response.body()).startsWith("origin failed:").contains("nowhere.test");
    assertThat(requests).isEmpty();
  }
}
