package io.cachestream.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link UrlMapping}: the public URL contract (DESIGN §3). */
class UrlMappingTest {
  private static final String BASE = "http://127.0.0.1:4612";

  // ---------------------------------------------------------------- round trip

  @Property(tries = 1000)
  void cacheUrlMapsBackToTheSameSourceForNamedAndIpv4Hosts(@ForAll("namedOrIpv4Sources") URI source) {
    assertRoundTrip(source);
  }

  /**
   * IPv6 literals are part of the contract ("IPv6 in brackets"), but a bracket is not a legal path character for
   * {@link URI}, so {@code toCacheUrl} cannot build {@code http://127.0.0.1:PORT/http/[::1]/x}.
   */
  @Property(tries = 300)
  void cacheUrlMapsBackToTheSameSourceForIpv6LiteralHosts(@ForAll("ipv6Sources") URI source) {
    assertRoundTrip(source);
  }

  private static void assertRoundTrip(URI source) {
    URI cacheUrl = UrlMapping.toCacheUrl(BASE, source);
    assertThat(cacheUrl.getRawAuthority()).isEqualTo("127.0.0.1:4612");
    String target = cacheUrl.getRawPath() + (cacheUrl.getRawQuery() == null ? "" : "?" + cacheUrl.getRawQuery());
    URI back = UrlMapping.toSource(target);
    // Raw strings: no decoding or re-encoding anywhere (signed URLs must survive byte for byte).
    assertThat(back.toString()).isEqualTo(source.toString());
    assertThat(back.getRawPath()).isEqualTo(source.getRawPath());
    assertThat(back.getRawQuery()).isEqualTo(source.getRawQuery());
    assertThat(back.getHost()).isEqualTo(source.getHost());
    assertThat(back.getPort()).isEqualTo(source.getPort());
  }

  @Provide
  Arbitrary<URI> namedOrIpv4Sources() {
    return sources(Arbitraries.oneOf(regNames(), ipv4()));
  }

  @Provide
  Arbitrary<URI> ipv6Sources() {
    return sources(ipv6().map(h -> "[" + h + "]"));
  }

  private static Arbitrary<URI> sources(Arbitrary<String> hosts) {
    Arbitrary<String> scheme = Arbitraries.of("http", "https");
    Arbitrary<String> port = Arbitraries.oneOf(
        Arbitraries.just(""), Arbitraries.integers().between(1, 65535).map(p -> ":" + p), Arbitraries.of(":80", ":443"));
    Arbitrary<String> query = Arbitraries.oneOf(Arbitraries.just(""), queries().map(q -> "?" + q));
    return Combinators.combine(scheme, hosts, port, paths(), query)
        .as((s, h, p, path, q) -> URI.create(s + "://" + h + p + path + q));
  }

  private static Arbitrary<String> regNames() {
    Arbitrary<String> label = Arbitraries.strings().withChars("abcdefghijklmnopqrstuvwxyzABCZ0123456789-")
        .ofMinLength(1).ofMaxLength(10)
        .filter(l -> !l.startsWith("-") && !l.endsWith("-"));
    Arbitrary<String> top = label.filter(l -> Character.isLetter(l.charAt(0)));
    return Combinators.combine(label.list().ofMaxSize(3), top)
        .as((labels, t) -> (labels.isEmpty() ? "" : String.join(".", labels) + ".") + t);
  }

  private static Arbitrary<String> ipv4() {
    Arbitrary<Integer> octet = Arbitraries.integers().between(0, 255);
    return Combinators.combine(octet, octet, octet, octet).as((a, b, c, d) -> a + "." + b + "." + c + "." + d);
  }

  private static Arbitrary<String> ipv6() {
    Arbitrary<String> group = Arbitraries.strings().withChars("0123456789abcdefABCDEF").ofMinLength(1).ofMaxLength(4);
    Arbitrary<String> full = group.list().ofSize(8).map(g -> String.join(":", g));
    Arbitrary<String> compressed = Combinators.combine(group.list().ofMinSize(1).ofMaxSize(3),
        group.list().ofMinSize(1).ofMaxSize(3)).as((a, b) -> String.join(":", a) + "::" + String.join(":", b));
    Arbitrary<String> mapped = ipv4().map(v4 -> "::ffff:" + v4);
    return Arbitraries.oneOf(full, compressed, mapped, Arbitraries.of("::1", "::", "fe80::1", "2001:db8::"));
  }

  /** A token of an RFC 3986 path segment: unreserved, sub-delims, ':', '@' or a percent-escape (either case). */
  private static Arbitrary<String> pathToken() {
    return Arbitraries.oneOf(
        Arbitraries.strings().withChars("abcXYZ019-._~").ofLength(1),
        Arbitraries.of("!", "$", "&", "'", "(", ")", "*", "+", ",", ";", "=", ":", "@"),
        Arbitraries.strings().withChars("0123456789abcdefABCDEF").ofLength(2).map(h -> "%" + h),
        Arbitraries.of("%2F", "%2f", "%20", "%25", "%3F", "%23", "%C3%A9"));
  }

  private static Arbitrary<String> paths() {
    Arbitrary<String> segment = pathToken().list().ofMaxSize(8).map(t -> String.join("", t))
        .filter(s -> !isDotSegment(s));
    return segment.list().ofMinSize(1).ofMaxSize(5).map(segs -> "/" + String.join("/", segs));
  }

  private static Arbitrary<String> queries() {
    Arbitrary<String> token = Arbitraries.oneOf(pathToken(),
        Arbitraries.of("/", "?", "=", "&", "%2F", "%3D", "%26", "sig=abc%2Fdef%3D%3D", "a=1&b=2"));
    return token.list().ofMaxSize(12).map(t -> String.join("", t));
  }

  private static boolean isDotSegment(String s) {
    String d = s.toLowerCase(Locale.ROOT).replace("%2e", ".");
    return d.equals(".") || d.equals("..");
  }

  // ---------------------------------------------------------------- examples

  @Test
  void signedQueryPassesThroughByteForByte() {
    URI source = URI.create("https://cdn.example.com:8443/v/a%2Fb/seg-1.ts?Signature=ab%2Bc%2F%3D&Expires=1&x=%7e");
    URI cacheUrl = UrlMapping.toCacheUrl(BASE, source);
    assertThat(cacheUrl.toString())
        .isEqualTo(BASE + "/https/cdn.example.com:8443/v/a%2Fb/seg-1.ts?Signature=ab%2Bc%2F%3D&Expires=1&x=%7e");
    assertThat(UrlMapping.toSource("/https/cdn.example.com:8443/v/a%2Fb/seg-1.ts?Signature=ab%2Bc%2F%3D&Expires=1&x=%7e"))
        .hasToString(source.toString());
  }

  @Test
  void baseWithTrailingSlashAndUpperCaseSchemeMapToTheCanonicalForm() {
    assertThat(UrlMapping.toCacheUrl(BASE + "/", URI.create("HTTP://example.com/x")))
        .hasToString(BASE + "/http/example.com/x");
  }

  @Test
  void sourceWithoutPathMapsToRootPath() {
    assertThat(UrlMapping.toCacheUrl(BASE, URI.create("http://example.com"))).hasToString(BASE + "/http/example.com/");
    assertThat(UrlMapping.toSource("/http/example.com")).hasToString("http://example.com/");
  }

  @Test
  void rawIpv6RequestTargetMapsToTheSource() {
    URI source = UrlMapping.toSource("/https/[2001:db8::1]:8443/live/index.m3u8?t=1");
    assertThat(source.getHost()).isEqualTo("[2001:db8::1]");
    assertThat(source.getPort()).isEqualTo(8443);
    assertThat(source).hasToString("https://[2001:db8::1]:8443/live/index.m3u8?t=1");
  }

  @Test
  void emptyQueryIsKept() {
    assertThat(UrlMapping.toSource("/http/h/x?")).hasToString("http://h/x?");
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', value = {
      "/ftp/x                 | unsupported scheme 'ftp'",
      "/HTTP/h/x              | unsupported scheme 'HTTP'",
      "/api/x                 | unsupported scheme 'api'",
      "/http/                 | missing host",
      "/http                  | missing host after /http/",
      "/http/host:99999/x     | invalid port '99999'",
      "/http/host:0/x         | invalid port '0'",
      "/http/host:/x          | invalid port ''",
      "/http/host:8o/x        | invalid port '8o'",
      "/https/%zz             | invalid host '%zz'",
      "/http/a..b/x           | invalid host 'a..b'",
      "/http/.h/x             | invalid host '.h'",
      "/http/[zz]/x           | invalid IPv6 literal 'zz'",
      "/http/[::1]x/y         | invalid host '[::1]x'",
      "/http/[::1/x           | unclosed IPv6 literal",
      "/http/h/a/../b         | dot segments",
      "/http/h/%2e%2e/b       | dot segments",
      "/http/h/%2E./b         | dot segments",
      "/http/h/./b            | dot segments",
      "/http/h/a/..           | dot segments",
      "/http/user@h/x         | user info is not allowed",
      "/http/h/x%zz           | malformed percent-encoding in path",
      "/http/h/x%2            | malformed percent-encoding in path",
      "/http/h/x?a=%z         | malformed percent-encoding in query",
      "/http/h/x?a=%          | malformed percent-encoding in query",
      "/http/h/x y            | invalid character 0x20 in path",
      "/http/h/x#frag         | invalid character 0x23 in path",
      "/http/h/x?a=<b>        | invalid character 0x3c in query",
      "http/h/x               | must start with /",
  })
  void badRequestTargetIsRejectedWithAOneLineReason(String target, String reason) {
    assertThatThrownBy(() -> UrlMapping.toSource(target))
        .isInstanceOf(UrlMapping.BadRequestException.class)
        .hasMessageContaining(reason)
        .message().doesNotContain("\n");
  }

  @Test
  void veryLongBadHostIsAbbreviatedInTheReason() {
    String host = "h_".repeat(500);
    assertThatThrownBy(() -> UrlMapping.toSource("/http/" + host + "/x"))
        .isInstanceOf(UrlMapping.BadRequestException.class)
        .message().hasSizeLessThan(200);
  }

  // ---------------------------------------------------------------- checkSource

  @Test
  void checkSourceRejectsNull() {
    assertThatThrownBy(() -> UrlMapping.checkSource(null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("null");
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', value = {
      "/relative/path.mp4             | absolute",
      "video.mp4                      | absolute",
      "ftp://example.com/x            | http or https",
      "file:///etc/passwd             | http or https",
      "http://user:pw@example.com/x   | user info",
      "http://user@example.com/x      | user info",
      "http:///x                      | host",
      "http://a_b.example/x           | host",
  })
  void checkSourceRejectsUnproxyableUris(String uri, String reason) {
    assertThatThrownBy(() -> UrlMapping.checkSource(URI.create(uri)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(reason);
  }

  /**
   * {@code java.net.URI} accepts any digits as a port, so without this check {@code cacheUrl} hands out proxy URLs
   * that the proxy itself answers with 400 ("invalid port").
   */
  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {"http://example.com:0/x", "http://example.com:99999/x", "http://example.com:/x"})
  void checkSourceRejectsPortsTheProxyWouldRefuse(String uri) {
    assertThatThrownBy(() -> UrlMapping.checkSource(URI.create(uri)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("port");
  }

  @Test
  void checkSourceAcceptsHttpAndHttpsInAnyCase() {
    for (String uri : List.of("http://example.com/x", "HTTPS://example.com:8443/x?y", "http://[::1]/x", "http://10.0.0.1")) {
      assertThatCode(() -> UrlMapping.checkSource(URI.create(uri))).as(uri).doesNotThrowAnyException();
    }
  }
}
