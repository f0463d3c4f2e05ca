package io.cachestream.cli;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback origin for the request command tests (the CLI module has no MockWebServer): {@code /ok} answers 200
 * "hello", {@code /fail} 500, anything else echoes method and body.
 */
final class RequestTestOrigin implements AutoCloseable {
  final HttpServer server;
  final List<String> received = new CopyOnWriteArrayList<>();

  RequestTestOrigin() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
    server.createContext("/", exchange -> {
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readAllBytes();
      }
      String path = exchange.getRequestURI().getPath();
      received.add(exchange.getRequestMethod() + " " + exchange.getRequestURI() + " " + new String(body, StandardCharsets.UTF_8));
      int code = path.equals("/fail") ? 500 : 200;
      byte[] answer = (path.equals("/ok") ? "hello" : exchange.getRequestMethod() + " " + body.length).getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("X-Origin", "test");
      exchange.sendResponseHeaders(code, answer.length);
      exchange.getResponseBody().write(answer);
      exchange.close();
    });
    server.start();
  }

  String url(String path) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + path;
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
