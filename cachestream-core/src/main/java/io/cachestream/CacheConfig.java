package io.cachestream;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Immutable configuration of a {@link CacheStreamManager}. Build one with {@link #builder()}; every setter checks
 * its argument and throws {@link IllegalArgumentException} naming the field and the value.
 */
public final class CacheConfig {
  /** Default port of the local server. */
  public static final int DEFAULT_PORT = 4612;

  private final int port;
  private final String bindAddress;
  private final Path cacheDir;
  private final Map<String, String> requestHeaders;
  private final Map<String, String> responseHeaders;
  private final boolean copyCachedResponseHeaders;
  private final Long rangeRequestSplitThreshold;
  private final Long readAhead;
  private final boolean validateOutdatedCache;
  private final Long maxCacheBytes;
  private final StreamLifecycle lifecycle;
  private final Duration readTimeout;
  private final Duration connectTimeout;
  private final int retryAttempts;
  private final int maxConnectionsPerHost;
  private final Function<URI, String> cacheKey;
  private final Map<String, LocalApi> apis;
  private final String apiToken;
  private final long checkpointBytes;
  private final Duration checkpointInterval;
  private final LifecycleTimer lifecycleTimer;
  private final TransferMode transferMode;

  private CacheConfig(Builder b) {
    this.port = b.port;
    this.bindAddress = b.bindAddress;
    this.cacheDir = b.cacheDir != null ? b.cacheDir : defaultCacheDir();
    this.requestHeaders = Map.copyOf(b.requestHeaders);
    this.responseHeaders = Map.copyOf(b.responseHeaders);
    this.copyCachedResponseHeaders = b.copyCachedResponseHeaders;
    this.rangeRequestSplitThreshold = b.rangeRequestSplitThreshold;
    this.readAhead = b.readAhead;
    this.validateOutdatedCache = b.validateOutdatedCache;
    this.maxCacheBytes = b.maxCacheBytes;
    this.lifecycle = b.lifecycle;
    this.readTimeout = b.readTimeout;
    this.connectTimeout = b.connectTimeout;
    this.retryAttempts = b.retryAttempts;
    this.maxConnectionsPerHost = b.maxConnectionsPerHost;
    this.cacheKey = b.cacheKey;
    this.apis = Map.copyOf(b.apis);
    this.apiToken = b.apiToken;
    this.checkpointBytes = b.checkpointBytes;
    this.checkpointInterval = b.checkpointInterval;
    this.lifecycleTimer = b.lifecycleTimer;
    this.transferMode = b.transferMode;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this configuration's values. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.port = port;
    b.bindAddress = bindAddress;
    b.cacheDir = cacheDir;
    b.requestHeaders.putAll(requestHeaders);
    b.responseHeaders.putAll(responseHeaders);
    b.copyCachedResponseHeaders = copyCachedResponseHeaders;
    b.rangeRequestSplitThreshold = rangeRequestSplitThreshold;
    b.readAhead = readAhead;
    b.validateOutdatedCache = validateOutdatedCache;
    b.maxCacheBytes = maxCacheBytes;
    b.lifecycle = lifecycle;
    b.readTimeout = readTimeout;
    b.connectTimeout = connectTimeout;
    b.retryAttempts = retryAttempts;
    b.maxConnectionsPerHost = maxConnectionsPerHost;
    b.cacheKey = cacheKey;
    b.apis.putAll(apis);
    b.apiToken = apiToken;
    b.checkpointBytes = checkpointBytes;
    b.checkpointInterval = checkpointInterval;
    b.lifecycleTimer = lifecycleTimer;
    b.transferMode = transferMode;
    return b;
  }

  /**
   * {@code $XDG_CACHE_HOME/cachestream} when that variable is set to an absolute path, else
   * {@code ~/.cache/cachestream}.
   */
  public static Path defaultCacheDir() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
      return Path.of(xdg, "cachestream");
    }
    return Path.of(System.getProperty("user.home"), ".cache", "cachestream");
  }

  /** Port of the local server; 0 picks a free one. Default {@value #DEFAULT_PORT}. */
  public int port() {
    return port;
  }

  /** Address the local server binds. Default {@code 127.0.0.1}. */
  public String bindAddress() {
    return bindAddress;
  }

  /** The cache directory. Default {@link #defaultCacheDir()}. */
  public Path cacheDir() {
    return cacheDir;
  }

  /** Headers added to every upstream request. */
  public Map<String, String> requestHeaders() {
    return requestHeaders;
  }

  /** Headers added to every response the local server sends for a proxied resource. */
  public Map<String, String> responseHeaders() {
    return responseHeaders;
  }

  /** Replay every origin header stored with the entry, not only content type and validators. Default false. */
  public boolean copyCachedResponseHeaders() {
    return copyCachedResponseHeaders;
  }

  /**
   * How far (bytes) beyond a running download a reader's first missing byte may be before it opens its own range
   * download; null disables split downloads. Default 2 MiB. Within it, a byte at least 256 KiB ahead also gets its
   * own download when the running one, at the speed it has shown, would take more than 10 ms, and more than twice
   * what the origin took to answer it, to reach it.
   */
  public Long rangeRequestSplitThreshold() {
    return rangeRequestSplitThreshold;
  }

  /**
   * How far past the furthest byte a client asked for downloads keep going; null (default) downloads the whole
   * file while the stream is held.
   */
  public Long readAhead() {
    return readAhead;
  }

  /** Revalidate entries past their freshness (Cache-Control max-age / Expires) before serving. Default false. */
  public boolean validateOutdatedCache() {
    return validateOutdatedCache;
  }

  /** Cache size budget in bytes, or null for none (default). */
  public Long maxCacheBytes() {
    return maxCacheBytes;
  }

  public StreamLifecycle lifecycle() {
    return lifecycle;
  }

  /** Longest wait for the next upstream byte before a download is resumed. Default 30 s. */
  public Duration readTimeout() {
    return readTimeout;
  }

  /** Longest wait to connect upstream. Default 10 s. */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /** How many times a download that failed mid-body is resumed before readers get an error. Default 5. */
  public int retryAttempts() {
    return retryAttempts;
  }

  /** Upstream connections per origin host. Default 6. */
  public int maxConnectionsPerHost() {
    return maxConnectionsPerHost;
  }

  /** The cache key of a source URI. Default: the whole URI string. */
  public String cacheKey(URI source) {
    return cacheKey.apply(source);
  }

  /** Extra endpoints of the loopback API, by name (mounted at {@code /api/<name>}). */
  public Map<String, LocalApi> apis() {
    return apis;
  }

  /** Token required by mutating loopback API calls; null means a random one is made at start. */
  public String apiToken() {
    return apiToken;
  }

  /** Bytes downloaded between checkpoints. Default 16 MiB. */
  public long checkpointBytes() {
    return checkpointBytes;
  }

  /** Longest time between checkpoints while downloading. Default 1 s. */
  public Duration checkpointInterval() {
    return checkpointInterval;
  }

  /** How cached bytes are sent. Default {@link TransferMode#AUTO}. */
  public TransferMode transferMode() {
    return transferMode;
  }

  /** The timer of lifecycle steps, or null for the internal one. */
  public LifecycleTimer lifecycleTimer() {
    return lifecycleTimer;
  }

  /** Builder of {@link CacheConfig}; not thread-safe. */
  public static final class Builder {
    private int port = DEFAULT_PORT;
    private String bindAddress = "127.0.0.1";
    private Path cacheDir;
    private final Map<String, String> requestHeaders = new LinkedHashMap<>();
    private final Map<String, String> responseHeaders = new LinkedHashMap<>();
    private boolean copyCachedResponseHeaders;
    private Long rangeRequestSplitThreshold = 2L * 1024 * 1024;
    private Long readAhead;
    private boolean validateOutdatedCache;
    private Long maxCacheBytes;
    private StreamLifecycle lifecycle = StreamLifecycle.DEFAULT;
    private Duration readTimeout = Duration.ofSeconds(30);
    private Duration connectTimeout = Duration.ofSeconds(10);
    private int retryAttempts = 5;
    private int maxConnectionsPerHost = 6;
    private Function<URI, String> cacheKey = URI::toString;
    private final Map<String, LocalApi> apis = new LinkedHashMap<>();
    private String apiToken;
    private long checkpointBytes = 16L * 1024 * 1024;
    private Duration checkpointInterval = Duration.ofSeconds(1);
    private LifecycleTimer lifecycleTimer;
    private TransferMode transferMode = TransferMode.AUTO;

    private Builder() {}

    public Builder transferMode(TransferMode mode) {
      this.transferMode = Objects.requireNonNull(mode, "transferMode");
      return this;
    }

    /** Schedules lifecycle steps with {@code timer} instead of the internal timer thread (for tests). */
    public Builder lifecycleTimer(LifecycleTimer timer) {
      this.lifecycleTimer = Objects.requireNonNull(timer, "lifecycleTimer");
      return this;
    }

    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535: " + port);
      }
      this.port = port;
      return this;
    }

    public Builder bindAddress(String bindAddress) {
      this.bindAddress = Objects.requireNonNull(bindAddress, "bindAddress");
      return this;
    }

    public Builder cacheDir(Path cacheDir) {
      this.cacheDir = Objects.requireNonNull(cacheDir, "cacheDir");
      return this;
    }

    public Builder requestHeader(String name, String value) {
      requestHeaders.put(requireToken("request header name", name), Objects.requireNonNull(value, "value"));
      return this;
    }

    public Builder responseHeader(String name, String value) {
      responseHeaders.put(requireToken("response header name", name), Objects.requireNonNull(value, "value"));
      return this;
    }

    public Builder copyCachedResponseHeaders(boolean copy) {
      this.copyCachedResponseHeaders = copy;
      return this;
    }

    /** Bytes, or null to disable split downloads. */
    public Builder rangeRequestSplitThreshold(Long bytes) {
      this.rangeRequestSplitThreshold = nonNegativeOrNull("rangeRequestSplitThreshold", bytes);
      return this;
    }

    /** Bytes, or null for whole-file downloads while held. */
    public Builder readAhead(Long bytes) {
      this.readAhead = nonNegativeOrNull("readAhead", bytes);
      return this;
    }

    public Builder validateOutdatedCache(boolean validate) {
      this.validateOutdatedCache = validate;
      return this;
    }

    /** Bytes, or null for no budget. */
    public Builder maxCacheBytes(Long bytes) {
      this.maxCacheBytes = nonNegativeOrNull("maxCacheBytes", bytes);
      return this;
    }

    public Builder lifecycle(StreamLifecycle lifecycle) {
      this.lifecycle = Objects.requireNonNull(lifecycle, "lifecycle");
      return this;
    }

    public Builder readTimeout(Duration timeout) {
      this.readTimeout = positive("readTimeout", timeout);
      return this;
    }

    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive("connectTimeout", timeout);
      return this;
    }

    public Builder retryAttempts(int attempts) {
      if (attempts < 0 || attempts > 100) {
        throw new IllegalArgumentException("retryAttempts must be 0..100: " + attempts);
      }
      this.retryAttempts = attempts;
      return this;
    }

    public Builder maxConnectionsPerHost(int connections) {
      if (connections < 1) {
        throw new IllegalArgumentException("maxConnectionsPerHost must be at least 1: " + connections);
      }
      this.maxConnectionsPerHost = connections;
      return this;
    }

    public Builder cacheKey(Function<URI, String> cacheKey) {
      this.cacheKey = Objects.requireNonNull(cacheKey, "cacheKey");
      return this;
    }

    /** Mounts {@code api} at {@code /api/<name>}; {@code name} is one path segment of letters, digits and dashes. */
    public Builder api(String name, LocalApi api) {
      if (name == null || !name.matches("[a-z0-9-]+")) {
        throw new IllegalArgumentException("api name must match [a-z0-9-]+: " + name);
      }
      apis.put(name, Objects.requireNonNull(api, "api"));
      return this;
    }

    public Builder apiToken(String token) {
      if (token != null && !token.matches("[A-Za-z0-9._~-]{8,}")) {
        throw new IllegalArgumentException("apiToken must be 8+ URL-safe characters");
      }
      this.apiToken = token;
      return this;
    }

    public Builder checkpointBytes(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("checkpointBytes must be positive: " + bytes);
      }
      this.checkpointBytes = bytes;
      return this;
    }

    public Builder checkpointInterval(Duration interval) {
      this.checkpointInterval = positive("checkpointInterval", interval);
      return this;
    }

    public CacheConfig build() {
      return new CacheConfig(this);
    }

    private static Long nonNegativeOrNull(String field, Long value) {
      if (value != null && value < 0) {
        throw new IllegalArgumentException(field + " must not be negative: " + value);
      }
      return value;
    }

    private static Duration positive(String field, Duration value) {
      Objects.requireNonNull(value, field);
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(field + " must be positive: " + value);
      }
      return value;
    }

    private static String requireToken(String field, String name) {
      if (name == null || !name.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
        throw new IllegalArgumentException(field + " is not a valid HTTP header name: " + name);
      }
      return name;
    }
  }
}
