package io.cachestream.server;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The URL contract: {@code http://127.0.0.1:PORT/{scheme}/{authority}{path}?{query}} maps to
 * {@code {scheme}://{authority}{path}?{query}}. Path and query bytes pass through unchanged, so signed URLs survive
 * and relative URIs inside playlists resolve through the proxy by themselves.
 */
public final class UrlMapping {
  // Compiled once: every request checks an authority (String.matches compiles its pattern on each call). The IPv6
  // and port patterns serve HostCheck too.
  static final Pattern IPV6_LITERAL = Pattern.compile("[0-9A-Fa-f:.]+");
  private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9._-]+");
  static final Pattern PORT = Pattern.compile("[0-9]{1,5}");

  private UrlMapping() {}

  /** The proxy URL of {@code source} under {@code base} (for example {@code http://127.0.0.1:4612}). */
  public static URI toCacheUrl(String base, URI source) {
    checkSource(source);
    String path = source.getRawPath() == null || source.getRawPath().isEmpty() ? "/" : source.getRawPath();
    String query = source.getRawQuery() == null ? "" : "?" + source.getRawQuery();
    String trimmedBase = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    // Brackets may not stand in a URI path: an IPv6 authority travels percent-encoded and is decoded back.
    String authority = source.getRawAuthority().replace("[", "%5B").replace("]", "%5D");
    return URI.create(trimmedBase + "/" + source.getScheme().toLowerCase(Locale.ROOT) + "/"
        + authority + path + query);
  }

  /**
   * Checks that {@code source} can be proxied: absolute, http or https, a host, no user info.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  public static void checkSource(URI source) {
    if (source == null) {
      throw new IllegalArgumentException("source URI must not be null");
    }
    if (!source.isAbsolute()) {
      throw new IllegalArgumentException("source URI must be absolute: " + source);
    }
    String scheme = source.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException("source URI scheme must be http or https: " + source);
    }
    if (source.getRawAuthority() == null || source.getHost() == null) {
      throw new IllegalArgumentException("source URI must have a host: " + source);
    }
    if (source.getRawUserInfo() != null) {
      throw new IllegalArgumentException("source URI must not carry user info: " + source);
    }
    if (source.getPort() == 0 || source.getPort() > 65535 || source.getRawAuthority().endsWith(":")) {
      throw new IllegalArgumentException("source URI port must be 1-65535: " + source);
    }
  }

  /**
   * The source URL a proxy request path stands for.
   *
   * @param rawPathAndQuery the request target as received, starting with {@code /http/} or {@code /https/}
   * @throws BadRequestException with a one-line reason when the target is not a valid proxy URL
   */
  public static URI toSource(String rawPathAndQuery) {
    int q = rawPathAndQuery.indexOf('?');
    String path = q < 0 ? rawPathAndQuery : rawPathAndQuery.substring(0, q);
    String query = q < 0 ? null : rawPathAndQuery.substring(q + 1);
    if (!path.startsWith("/")) {
      throw new BadRequestException("request target must start with /");
    }
    int schemeEnd = path.indexOf('/', 1);
    String scheme = schemeEnd < 0 ? path.substring(1) : path.substring(1, schemeEnd);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new BadRequestException("unsupported scheme '" + abbreviate(scheme)
          + "': proxy URLs start with /http/ or /https/");
    }
    if (schemeEnd < 0) {
      throw new BadRequestException("missing host after /" + scheme + "/");
    }
    int authorityEnd = path.indexOf('/', schemeEnd + 1);
    String authority = authorityEnd < 0 ? path.substring(schemeEnd + 1) : path.substring(schemeEnd + 1, authorityEnd);
    String rest = authorityEnd < 0 ? "/" : path.substring(authorityEnd);
    if (authority.regionMatches(true, 0, "%5B", 0, 3)) {
      authority = authority.replaceFirst("(?i)^%5B", "[").replaceFirst("(?i)%5D", "]");
    }
    checkAuthority(authority);
    checkChars(rest, false);
    checkNoDotSegments(rest);
    if (query != null) {
      checkChars(query, true);
    }
    String target = scheme + "://" + authority + rest + (query == null ? "" : "?" + query);
    try {
      URI uri = new URI(target);
      if (uri.getHost() == null) {
        throw new BadRequestException("invalid host '" + abbreviate(authority) + "'");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new BadRequestException("malformed URL: " + e.getReason());
    }
  }

  private static void checkAuthority(String authority) {
    if (authority.isEmpty()) {
      throw new BadRequestException("missing host");
    }
    if (authority.indexOf('@') >= 0) {
      throw new BadRequestException("user info is not allowed in the host");
    }
    String host;
    String port = null;
    if (authority.startsWith("[")) {
      int close = authority.indexOf(']');
      if (close < 0) {
        throw new BadRequestException("unclosed IPv6 literal in host");
      }
      host = authority.substring(1, close);
      if (!IPV6_LITERAL.matcher(host).matches()) {
        throw new BadRequestException("invalid IPv6 literal '" + abbreviate(host) + "'");
      }
      String after = authority.substring(close + 1);
      if (!after.isEmpty()) {
        if (!after.startsWith(":")) {
          throw new BadRequestException("invalid host '" + abbreviate(authority) + "'");
        }
        port = after.substring(1);
      }
    } else {
      int colon = authority.lastIndexOf(':');
      host = colon < 0 ? authority : authority.substring(0, colon);
      port = colon < 0 ? null : authority.substring(colon + 1);
      if (!HOST_NAME.matcher(host).matches() || host.startsWith(".") || host.contains("..")) {
        throw new BadRequestException("invalid host '" + abbreviate(host) + "'");
      }
    }
    if (port != null) {
      if (!PORT.matcher(port).matches() || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
        throw new BadRequestException("invalid port '" + abbreviate(port) + "': must be 1-65535");
      }
    }
  }

  /** RFC 3986 path (or query) characters, with every {@code %} starting a valid escape. */
  private static void checkChars(String s, boolean query) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 2 >= s.length() || hex(s.charAt(i + 1)) < 0 || hex(s.charAt(i + 2)) < 0) {
          throw new BadRequestException("malformed percent-encoding in " + (query ? "query" : "path"));
        }
        i += 2;
      } else if (!isUriChar(c, query)) {
        throw new BadRequestException("invalid character 0x" + Integer.toHexString(c) + " in "
            + (query ? "query" : "path"));
      }
    }
  }

  private static boolean isUriChar(char c, boolean query) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      return true;
    }
    return "-._~!$&'()*+,;=:@/".indexOf(c) >= 0 || (query && c == '?');
  }

  private static int hex(char c) {
    return Character.digit(c, 16);
  }

  private static void checkNoDotSegments(String path) {
    for (String segment : path.split("/", -1)) {
      String s = segment.toLowerCase(Locale.ROOT).replace("%2e", ".");
      if (s.equals(".") || s.equals("..")) {
        throw new BadRequestException("dot segments ('.' or '..') are not allowed in the path");
      }
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 64 ? s : s.substring(0, 64) + "...";
  }

  /** A request target that cannot be mapped; the message is the one-line reason sent with the 400. */
  public static final class BadRequestException extends RuntimeException {
    BadRequestException(String message) {
      super(message);
    }
  }
}
