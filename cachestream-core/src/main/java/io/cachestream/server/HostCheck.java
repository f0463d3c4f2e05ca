package io.cachestream.server;

import java.util.Locale;

/**
 * Guards against DNS rebinding: a page on {@code evil.example} that resolves to 127.0.0.1 reaches the server with
 * {@code Host: evil.example}. Only loopback names and IP literals are accepted.
 */
final class HostCheck {
  private HostCheck() {}

  static boolean allowed(String host) {
    if (host == null) {
      return true; // HTTP/1.0 clients send none; a browser always does.
    }
    String h = host.trim().toLowerCase(Locale.ROOT);
    if (h.startsWith("[")) {
      int close = h.indexOf(']');
      return close > 0 && h.substring(1, close).matches("[0-9a-f:.]+") && portOk(h.substring(close + 1));
    }
    int colon = h.indexOf(':');
    String name = colon < 0 ? h : h.substring(0, colon);
    if (colon >= 0 && !portOk(h.substring(colon))) {
      return false;
    }
    return name.equals("localhost") || name.endsWith(".localhost") || name.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
  }

  private static boolean portOk(String rest) {
    return rest.isEmpty() || rest.matches(":[0-9]{1,5}");
  }
}
