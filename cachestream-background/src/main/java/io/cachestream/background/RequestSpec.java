package io.cachestream.background;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import okhttp3.Headers;

/**
 * Everything about a request except its method and URL: headers, query parameters, body, timeout, id and retries.
 * Immutable; build one with {@link #builder()}. {@link #DEFAULT} has no headers, no body and no retries.
 *
 * <p>Invalid values are rejected by the builder with {@link IllegalArgumentException} naming the field and value.
 */
public final class RequestSpec {
  /** No headers, no query parameters, no body, the client's default timeout, a generated id, no retries. */
  public static final RequestSpec DEFAULT = builder().build();

  /** The most retries a request may ask for (the seed's limit). */
  public static final int MAX_RETRIES = 10;

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");

  private final List<Map.Entry<String, String>> headers;
  private final List<Map.Entry<String, String>> query;
  private final byte[] bodyBytes;
  private final Path bodyFile;
  private final String contentType;
  private final Duration timeout;
  private final String id;
  private final int retries;

  private RequestSpec(Builder b) {
    headers = List.copyOf(b.headers);
    query = List.copyOf(b.query);
    bodyBytes = b.bodyBytes;
    bodyFile = b.bodyFile;
    contentType = b.contentType;
    timeout = b.timeout;
    id = b.id;
    retries = b.retries;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Shorthand for a spec that only sets the number of retries. */
  public static RequestSpec retries(int retries) {
    return builder().retries(retries).build();
  }

  /** Request headers in order; a name may repeat. */
  public List<Map.Entry<String, String>> headers() {
    return headers;
  }

  /** Query parameters appended to the URL, in order; a name may repeat. */
  public List<Map.Entry<String, String>> query() {
    return query;
  }

  /** True if a body (bytes, string or file) was set. */
  public boolean hasBody() {
    return bodyBytes != null || bodyFile != null;
  }

  /** The body's bytes if it was given as bytes or a string, else null. The array is not copied: do not modify it. */
  byte[] bodyBytes() {
    return bodyBytes;
  }

  /** The file the body is copied from at enqueue time, else null. */
  public Path bodyFile() {
    return bodyFile;
  }

  /** The body's media type, or null for the default. */
  public String contentType() {
    return contentType;
  }

  /** The timeout, or null for the client's default. */
  public Duration timeout() {
    return timeout;
  }

  /** The requested id, or null to generate one. */
  public String id() {
    return id;
  }

  public int retries() {
    return retries;
  }

  /** Whether {@code id} may be used as a request id: 1 to 128 of {@code A-Z a-z 0-9 . _ -}, not starting with a dot. */
  public static boolean isValidId(String id) {
    return id != null && ID.matcher(id).matches();
  }

  /** Collects a spec; not thread-safe. */
  public static final class Builder {
    private final List<Map.Entry<String, String>> headers = new ArrayList<>();
    private final List<Map.Entry<String, String>> query = new ArrayList<>();
    private byte[] bodyBytes;
    private Path bodyFile;
    private String contentType;
    private Duration timeout;
    private String id;
    private int retries;

    private Builder() {}

    /** Adds a header (names may repeat). Rejects names and values OkHttp would refuse to send. */
    public Builder addHeader(String name, String value) {
      new Headers.Builder().add(name, value); // validates now rather than at send time, hours later
      headers.add(Map.entry(name, value));
      return this;
    }

    /** Adds every entry of {@code headers}. */
    public Builder headers(Map<String, String> headers) {
      headers.forEach(this::addHeader);
      return this;
    }

    /** Adds a query parameter (names may repeat); it is encoded into the URL at enqueue time. */
    public Builder addQuery(String name, String value) {
      query.add(Map.entry(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value")));
      return this;
    }

    /** Adds every entry of {@code query}. */
    public Builder query(Map<String, String> query) {
      query.forEach(this::addQuery);
      return this;
    }

    /** Sends {@code body} (not copied until enqueue: do not modify it in between); default type octet-stream. */
    public Builder body(byte[] body) {
      clearBody();
      bodyBytes = Objects.requireNonNull(body, "body");
      return this;
    }

    /** Sends {@code body} as UTF-8; default type {@code text/plain; charset=utf-8}. */
    public Builder body(String body) {
      body(body.getBytes(StandardCharsets.UTF_8));
      if (contentType == null) contentType = "text/plain; charset=utf-8";
      return this;
    }

    /**
     * Sends the content of {@code file}, copied into the request's directory at enqueue time (so the original may
     * change or go away afterwards). Default type octet-stream.
     *
     * @throws IllegalArgumentException if {@code file} is not a readable regular file
     */
    public Builder bodyFile(Path file) {
      if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
        throw new IllegalArgumentException("bodyFile is not a readable file: " + file);
      }
      clearBody();
      bodyFile = file;
      return this;
    }

    /** The body's media type, e.g. {@code application/json}. A {@code Content-Type} header overrides it. */
    public Builder contentType(String contentType) {
      if (okhttp3.MediaType.parse(contentType) == null) {
        throw new IllegalArgumentException("contentType is not a media type: '" + contentType + "'");
      }
      this.contentType = contentType;
      return this;
    }

    /** Connect, read and write inactivity timeout of each attempt (not a deadline for the whole transfer). */
    public Builder timeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be positive, got " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /**
     * Uses {@code id} instead of a generated one. See {@link #isValidId(String)}; an id already present in the
     * directory is rejected at enqueue time with {@link IllegalStateException}.
     */
    public Builder id(String id) {
      if (!isValidId(id)) {
        throw new IllegalArgumentException(
            "id must be 1 to 128 of A-Z a-z 0-9 . _ - and not start with '.', got '" + id + "'");
      }
      this.id = id;
      return this;
    }

    /** Retries after the first attempt, 0 to {@value #MAX_RETRIES}. */
    public Builder retries(int retries) {
      if (retries < 0 || retries > MAX_RETRIES) {
        throw new IllegalArgumentException("retries must be between 0 and " + MAX_RETRIES + ", got " + retries);
      }
      this.retries = retries;
      return this;
    }

    public RequestSpec build() {
      // A Content-Type header is the body's type; OkHttp would otherwise overwrite the header with the default type.
      for (Map.Entry<String, String> h : headers) {
        if (h.getKey().equalsIgnoreCase("Content-Type")) contentType(h.getValue());
      }
      return new RequestSpec(this);
    }

    private void clearBody() {
      bodyBytes = null;
      bodyFile = null;
    }
  }
}
