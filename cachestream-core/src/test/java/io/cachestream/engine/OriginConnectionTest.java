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
import javax.net.ssl.X509TrustManager;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Dns;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the engine reaches an origin from a client's event loop: a host name is looked up on a download thread (with
 * the engine's resolver, the one the blocking client also uses) and remembered, its addresses are tried in order,
 * and an {@code https} origin is asked over TLS with the blocking client's trust and the host name checked.
 */
@Timeout(60)
class OriginConnectionTest {
  private static final HeldCertificate ORIGIN_TEST = new HeldCertificate.Builder()
      .addSubjectAlternativeName("origin.test").build();

  @TempDir Path dir;
  private final MockWebServer origin = new MockWebServer();
  private final List<String> lookups = new CopyOnWriteArrayList<>();
  private final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private Engine engine;
  private ProxyServer server;

  /**
   * Resolves {@code two.test} to an address where nothing listens, then the origin's, and {@code origin.test} to the
   * origin's; nothing else.
   */
  private final Dns names = host -> {
    lookups.add(host);
    return switch (host) {
      case "two.test" -> List.of(InetAddress.getByName("127.0.0.2"), InetAddress.getByName("127.0.0.1"));
      case "origin.test" -> List.of(InetAddress.getByName("127.0.0.1"));
      default -> throw new UnknownHostException(host + ": no such host");
    };
  };

  @BeforeEach
  void answerEveryPath() {
    origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        requests.add(request);
        return new MockResponse.Builder().code(200).body("body of " + request.getUrl().encodedPath()).build();
      }
    });
  }

  private void start(Dns dns, X509TrustManager trust) throws Exception {
    origin.start(InetAddress.getByName("127.0.0.1"), 0);
    CacheConfig config = CacheConfig.builder().port(0).cacheDir(dir).build();
    engine = new Engine(config, CacheStore.open(dir), dns, trust);
    server = ProxyServer.start(engine, "token", Map.of());
  }

  /** Serves the origin over TLS with {@code certificate}; the engine trusts {@code trusted}. */
  private void startTls(HeldCertificate certificate, HeldCertificate trusted) throws Exception {
    origin.useHttps(new HandshakeCertificates.Builder().heldCertificate(certificate).build().sslSocketFactory());
    start(names, new HandshakeCertificates.Builder().addTrustedCertificate(trusted.certificate()).build()
        .trustManager());
    // Until the upstream clients are built (off the start-up path), https requests go to the blocking client.
    for (int i = 0; i < 500 && engine.loopTls() == null; i++) {
      Thread.sleep(10);
    }
    assertThat(engine.loopTls()).isNotNull();
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (engine != null) {
      engine.close();
    }
    origin.close();
  }

  private HttpResponse<String> get(String schemeHostAndPath) throws Exception {
    URI url = URI.create(server.baseUrl() + "/" + schemeHostAndPath);
    return client.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  /** GETs {@code /a} and {@code /b} of an origin and checks that the loop asked for both, on one kept connection. */
  private void getTwoFromTheLoopOnOneConnection(String schemeAndHost) throws Exception {
    assertThat(get(schemeAndHost + "/a").body()).isEqualTo("body of /a");
    assertThat(get(schemeAndHost + "/b").body()).isEqualTo("body of /b");
    assertThat(requests).hasSize(2).allSatisfy(r ->
        assertThat(r.getHeaders().get("Connection")).as("asked from the loop, not by OkHttp").isNull());
    assertThat(requests.get(1).getConnectionIndex()).as("the kept connection")
        .isEqualTo(requests.get(0).getConnectionIndex());
  }

  @Test
  void aHostNameIsLookedUpOnceAndItsAddressesAreTriedInOrderFromTheLoop() throws Exception {
    start(names, null);
    String host = "two.test:" + origin.getPort();

    getTwoFromTheLoopOnOneConnection("http/" + host);
    assertThat(lookups).containsExactly("two.test");
    assertThat(requests).allSatisfy(r -> assertThat(r.getHeaders().get("Host")).isEqualTo(host));
  }

  @Test
  void aHostNameThatDoesNotResolveIsABadGatewayNamingIt() throws Exception {
    start(names, null);
    HttpResponse<String> response = get("http/nowhere.test:" + origin.getPort() + "/x");

    assertThat(response.statusCode()).isEqualTo(502);
    assertThat(response.body()).startsWith("origin failed:").contains("nowhere.test");
    assertThat(requests).isEmpty();
  }

  @Test
  void anHttpsOriginIsAskedFromTheLoopOverTlsAndItsConnectionKept() throws Exception {
    startTls(ORIGIN_TEST, ORIGIN_TEST);

    getTwoFromTheLoopOnOneConnection("https/origin.test:" + origin.getPort());
    assertThat(requests).allSatisfy(r -> {
      assertThat(r.getHandshake()).as("over TLS").isNotNull();
      assertThat(r.getHandshakeServerNames()).as("SNI").containsExactly("origin.test");
    });
  }

  @Test
  void anHttpsOriginWhoseCertificateIsNotTrustedIsABadGatewayAndIsNeverAsked() throws Exception {
    startTls(ORIGIN_TEST, new HeldCertificate.Builder().addSubjectAlternativeName("origin.test").build());
    HttpResponse<String> response = get("https/origin.test:" + origin.getPort() + "/x");

    assertThat(response.statusCode()).isEqualTo(502);
    assertThat(response.body()).startsWith("origin failed:");
    assertThat(requests).isEmpty();
  }

  @Test
  void anHttpsOriginWhoseCertificateNamesAnotherHostIsABadGatewayAndIsNeverAsked() throws Exception {
    HeldCertificate other = new HeldCertificate.Builder().addSubjectAlternativeName("other.test").build();
    startTls(other, other);
    HttpResponse<String> response = get("https/origin.test:" + origin.getPort() + "/x");

    assertThat(response.statusCode()).isEqualTo(502);
    assertThat(requests).isEmpty();
  }
}
