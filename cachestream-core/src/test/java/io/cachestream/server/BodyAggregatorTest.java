package io.cachestream.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BodyAggregatorTest {
  private final EmbeddedChannel channel = new EmbeddedChannel(new HttpRequestDecoder(), new BodyAggregator(1024));

  @AfterEach
  void finish() {
    channel.finishAndReleaseAll(); // releases whatever a test left unread
  }

  private void send(String request) {
    channel.writeInbound(Unpooled.copiedBuffer(request, StandardCharsets.US_ASCII));
  }

  /** The body of the next inbound message, which must be an aggregated request. */
  private String aggregatedBody() {
    FullHttpRequest request = channel.readInbound();
    try {
      return request.content().toString(StandardCharsets.US_ASCII);
    } finally {
      request.release();
    }
  }

  @Test
  void aRequestWithoutABodyPassesAsDecodedFollowedByItsEmptyLastContent() {
    send("GET /http/127.0.0.1:8080/v.mp4 HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=0-\r\n\r\n");
    Object first = channel.readInbound();
    assertThat(first).isInstanceOf(HttpRequest.class).isNotInstanceOf(FullHttpRequest.class);
    assertThat(((HttpRequest) first).headers().get("Range")).isEqualTo("bytes=0-");
    Object second = channel.readInbound();
    assertThat(second).isInstanceOf(LastHttpContent.class);
    assertThat(((LastHttpContent) second).content().readableBytes()).isZero();
    ReferenceCountUtil.release(second);
  }

  @Test
  void aRequestWithABodyIsAggregated() {
    send("POST /api/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhel");
    assertThat((Object) channel.readInbound()).as("nothing before the whole body").isNull();
    send("lo");
    assertThat(aggregatedBody()).isEqualTo("hello");
  }

  @Test
  void aChunkedRequestIsAggregated() {
    send("PUT /api/x HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    assertThat(aggregatedBody()).isEqualTo("abc");
  }

  @Test
  void aMalformedRequestStillArrivesAggregatedWithItsFailure() {
    send("GET /x HTTP/1.1\r\nBad Header Without Colon\r\n\r\n");
    Object first = channel.readInbound();
    assertThat(first).isInstanceOf(FullHttpRequest.class);
    assertThat(((FullHttpRequest) first).decoderResult().isFailure()).isTrue();
    ReferenceCountUtil.release(first);
  }
}
