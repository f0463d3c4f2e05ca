package io.cachestream.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HostCheckTest {
  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "127.0.0.1:4612", "localhost", "LOCALHOST:80", "app.localhost:1",
      "[::1]", "[::1]:4612", "192.168.1.20:8080", " 127.0.0.1 "})
  void loopbackNamesAndIpLiteralsAreAllowed(String host) {
    assertThat(HostCheck.allowed(host)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"evil.example", "evil.example:4612", "localhost.evil.example", "127.0.0.1.nip.io",
      "127.0.0.1:", "127.0.0.1:123456", "127.0.0.1:80x", "[::1", "[::1]x", "[::g]", "1.2.3", "1234.1.1.1"})
  void otherNamesAndMalformedPortsAreRefused(String host) {
    assertThat(HostCheck.allowed(host)).isFalse();
  }
}
