package io.cachestream.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import org.junit.jupiter.api.Test;

class NoDelaySocketFactoryTest {
  private final NoDelaySocketFactory factory = new NoDelaySocketFactory();
  private final InetAddress loopback = InetAddress.getLoopbackAddress();

  @Test
  void anUnconnectedSocketKeepsNagleOffOnceConnected() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, loopback); Socket socket = factory.createSocket()) {
      assertThat(socket.getTcpNoDelay()).isTrue();
      socket.connect(new InetSocketAddress(loopback, server.getLocalPort()), 5000);
      assertThat(socket.getTcpNoDelay()).isTrue();
    }
  }

  @Test
  void everyConnectingFormTurnsNagleOff() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 4, loopback)) {
      int port = server.getLocalPort();
      String host = loopback.getHostAddress();
      for (Socket socket : new Socket[] {
          factory.createSocket(host, port),
          factory.createSocket(host, port, loopback, 0),
          factory.createSocket(loopback, port),
          factory.createSocket(loopback, port, loopback, 0)}) {
        try (socket) {
          assertThat(socket.isConnected()).isTrue();
          assertThat(socket.getTcpNoDelay()).isTrue();
        }
      }
    }
  }
}
