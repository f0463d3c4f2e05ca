package io.cachestream.background;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import javax.net.ServerSocketFactory;
import mockwebserver3.MockWebServer;

/** Loopback-only helpers: every test server listens on 127.0.0.1 and URLs use the address, not "localhost". */
final class Loopback {
  private Loopback() {}

  static InetAddress address() throws IOException {
    return InetAddress.getByName("127.0.0.1");
  }

  static MockWebServer start(MockWebServer server) throws IOException {
    return start(server, 0);
  }

  /**
   * Starts {@code server} on {@code port} (0: any free one) with TCP_NODELAY on accepted sockets. MockWebServer writes
   * headers and body separately; with Nagle's algorithm the body then waits for the client's delayed ACK (~40 ms), which
   * would make throughput tests measure TCP timers instead of the queue.
   */
  static MockWebServer start(MockWebServer server, int port) throws IOException {
    server.setServerSocketFactory(new ServerSocketFactory() {
      @Override
      public ServerSocket createServerSocket() throws IOException {
        return new ServerSocket() {
          @Override
          public Socket accept() throws IOException {
            Socket s = super.accept();
            s.setTcpNoDelay(true);
            return s;
          }
        };
      }

      @Override
      public ServerSocket createServerSocket(int port) {
        throw new UnsupportedOperationException();
      }

      @Override
      public ServerSocket createServerSocket(int port, int backlog) {
        throw new UnsupportedOperationException();
      }

      @Override
      public ServerSocket createServerSocket(int port, int backlog, InetAddress address) {
        throw new UnsupportedOperationException();
      }
    });
    server.start(address(), port);
    return server;
  }

  static String url(MockWebServer server, String path) {
    return url(server.getPort(), path);
  }

  static String url(int port, String path) {
    return "http://127.0.0.1:" + port + path;
  }

  /** A port nothing listens on (bound and released), so connecting is refused. */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, address())) {
      return s.getLocalPort();
    }
  }
}
