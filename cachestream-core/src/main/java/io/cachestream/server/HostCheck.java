package io.cachestream.server;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Guards against DNS rebinding: a page on {@code evil.example} that resolves to 127.0.0.1 reaches the server with
 * {@code Host: evil.example}. Only loopback names and IP literals are accepted.
 */
final class HostCheck {
  // Compiled once: every request is checked (String.matches compiles its pattern on each call).
  private static final Pattern IPV4_LITERAL = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");

  private HostCheck() {}

  static boolean allowed(String host) {
    if (host == null) {
      return true; // HTTP/1.0 clients send none; a browser always does.
    }
    String h = host.trim().toLowerCase(Locale.ROOT);
    if (h.startsWith("[")) {
      int close = h.indexOf(']');
      return close > 0 && UrlMapping.IPV6_LITERAL.matcher(h).region(1, close).matches()
          && portOk(h.substring(close + 1));
    }
    int colon = h.indexOf(':');
    String name = colon < 0 ? h : h.substring(0, colon);
    if (colon >= 0 && !portOk(h.substring(colon))) {
      return false;
    }
    return name.equals("localhost") || name.endsWith(".localhost") || IPV4_LITERAL.matcher(name).matches();
  }

  private static boolean portOk(String rest) {
    return rest.isEmpty()
        || (rest.startsWith(":") && UrlMapping.PORT.matcher(rest).region(1, rest.length()).matches());
  }
}
