package io.cachestream;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okio.Buffer;

/**
 * A fake origin on loopback serving byte arrays with single-range support, optionally throttled, counting the
 * body bytes it sends. Tests can replace the answer for a path with {@link #override}.
 */
final class RangeOrigin implements AutoCloseable {
  private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-(\\d*)");

  final MockWebServer server = new MockWebServer();
  final Map<String, byte[]> files = new ConcurrentHashMap<>();
  final AtomicLong bodyBytesSent = new AtomicLong();
  final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();
  final Map<String, Function<RecordedRequest, MockResponse>> overrides = new ConcurrentHashMap<>();
  volatile long throttleBytesPerPeriod;
  volatile long throttlePeriodMillis;

  RangeOrigin() throws IOException {
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        requests.add(request);
        String path = request.getUrl().encodedPath();
        Function<RecordedRequest, MockResponse> override = overrides.get(path);
        return override != null ? override.apply(request) : serve(request, path);
      }
    });
    server.start(java.net.InetAddress.getLoopbackAddress(), 0);
  }

  static byte[] randomBytes(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  RangeOrigin file(String path, byte[] content) {
    files.put(path, content);
    return this;
  }

  RangeOrigin throttle(long bytes, long periodMillis) {
    throttleBytesPerPeriod = bytes;
    throttlePeriodMillis = periodMillis;
    return this;
  }

  void override(String path, Function<RecordedRequest, MockResponse> answer) {
    overrides.put(path, answer);
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.getPort() + path);
  }

  List<RecordedRequest> requestsFor(String path) {
    return requests.stream().filter(r -> r.getUrl().encodedPath().equals(path)).toList();
  }

  MockResponse serve(RecordedRequest request, String path) {
    byte[] content = files.get(path);
    if (content == null) {
      return new MockResponse.Builder().code(404).body("no such file").build();
    }
    String etag = "\"" + Integer.toHexString(java.util.Arrays.hashCode(content)) + "\"";
    MockResponse.Builder b = new MockResponse.Builder()
        .addHeader("Content-Type", "video/mp4")
        .addHeader("ETag", etag)
        .addHeader("Accept-Ranges", "bytes");
    if (request.getMethod().equals("HEAD")) {
      return b.code(200).addHeader("Content-Length", content.length).build();
    }
    int from = 0;
    int to = content.length - 1;
    String range = request.getHeaders().get("Range");
    String ifRange = request.getHeaders().get("If-Range");
    boolean useRange = range != null && (ifRange == null || ifRange.equals(etag));
    if (useRange) {
      Matcher m = RANGE.matcher(range);
      if (!m.matches() || Long.parseLong(m.group(1)) >= content.length) {
        return b.code(416).addHeader("Content-Range", "bytes */" + content.length).build();
      }
      from = Integer.parseInt(m.group(1));
      if (!m.group(2).isEmpty()) {
        to = (int) Math.min(to, Long.parseLong(m.group(2)));
      }
      b.code(206).addHeader("Content-Range", "bytes " + from + "-" + to + "/" + content.length);
    } else {
      b.code(200);
    }
    Buffer body = new Buffer().write(content, from, to - from + 1);
    bodyBytesSent.addAndGet(body.size());
    if (throttleBytesPerPeriod > 0) {
      b.throttleBody(throttleBytesPerPeriod, throttlePeriodMillis, TimeUnit.MILLISECONDS);
    }
    return b.body(body).build();
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
