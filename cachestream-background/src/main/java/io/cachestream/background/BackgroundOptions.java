package io.cachestream.background;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import okhttp3.OkHttpClient;

/**
 * Immutable settings of a {@link BackgroundHttpClient}. Start from {@link #defaults()} or {@link #builder()}.
 *
 * <p>Defaults: the seed's {@link RetryPolicy#ALL_ERRORS}, no jitter, 16 concurrent calls of which at most 4 per host
 * ({@code host:port}), a network probe every 2 s while a host is unreachable, {@code Idempotency-Key} on POST and
 * PATCH, a 30 s timeout, a rescan of the directory every 2 s, fsync on, the system UTC clock and a private timer
 * thread.
 */
public final class BackgroundOptions {
  private final Clock clock;
  private final Scheduler scheduler;
  private final RetryPolicy retryPolicy;
  private final boolean jitter;
  private final int maxConcurrency;
  private final int maxConcurrencyPerHost;
  private final Duration offlineProbeInterval;
  private final boolean idempotencyKeys;
  private final Duration defaultTimeout;
  private final Duration rescanInterval;
  private final boolean fsync;
  private final OkHttpClient okHttpClient;
  private final List<BackgroundListener> listeners;

  private BackgroundOptions(Builder b) {
    clock = b.clock;
    scheduler = b.scheduler;
    retryPolicy = b.retryPolicy;
    jitter = b.jitter;
    maxConcurrency = b.maxConcurrency;
    maxConcurrencyPerHost = b.maxConcurrencyPerHost;
    offlineProbeInterval = b.offlineProbeInterval;
    idempotencyKeys = b.idempotencyKeys;
    defaultTimeout = b.defaultTimeout;
    rescanInterval = b.rescanInterval;
    fsync = b.fsync;
    okHttpClient = b.okHttpClient;
    listeners = List.copyOf(b.listeners);
  }

  /** All defaults. */
  public static BackgroundOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from these options. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  public Clock clock() {
    return clock;
  }

  /** The timer for backoff and probes, or null for a private timer thread owned by the client. */
  public Scheduler scheduler() {
    return scheduler;
  }

  public RetryPolicy retryPolicy() {
    return retryPolicy;
  }

  public boolean jitter() {
    return jitter;
  }

  public int maxConcurrency() {
    return maxConcurrency;
  }

  public int maxConcurrencyPerHost() {
    return maxConcurrencyPerHost;
  }

  public Duration offlineProbeInterval() {
    return offlineProbeInterval;
  }

  public boolean idempotencyKeys() {
    return idempotencyKeys;
  }

  public Duration defaultTimeout() {
    return defaultTimeout;
  }

  public Duration rescanInterval() {
    return rescanInterval;
  }

  public boolean fsync() {
    return fsync;
  }

  /** The OkHttp client calls are derived from, or null for a default one. */
  public OkHttpClient okHttpClient() {
    return okHttpClient;
  }

  public List<BackgroundListener> listeners() {
    return listeners;
  }

  /** Collects options; not thread-safe. */
  public static final class Builder {
    private Clock clock = Clock.systemUTC();
    private Scheduler scheduler;
    private RetryPolicy retryPolicy = RetryPolicy.ALL_ERRORS;
    private boolean jitter;
    private int maxConcurrency = 16;
    private int maxConcurrencyPerHost = 4;
    private Duration offlineProbeInterval = Duration.ofSeconds(2);
    private boolean idempotencyKeys = true;
    private Duration defaultTimeout = Duration.ofSeconds(30);
    private Duration rescanInterval = Duration.ofSeconds(2);
    private boolean fsync = true;
    private OkHttpClient okHttpClient;
    private final List<BackgroundListener> listeners = new ArrayList<>();

    private Builder() {}

    private Builder(BackgroundOptions o) {
      clock = o.clock;
      scheduler = o.scheduler;
      retryPolicy = o.retryPolicy;
      jitter = o.jitter;
      maxConcurrency = o.maxConcurrency;
      maxConcurrencyPerHost = o.maxConcurrencyPerHost;
      offlineProbeInterval = o.offlineProbeInterval;
      idempotencyKeys = o.idempotencyKeys;
      defaultTimeout = o.defaultTimeout;
      rescanInterval = o.rescanInterval;
      fsync = o.fsync;
      okHttpClient = o.okHttpClient;
      listeners.addAll(o.listeners);
    }

    /** The clock for {@code nextAttemptAt}, {@code createdAt} and cleanup ages. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** The timer for backoff and network probes; it must agree with {@link #clock(Clock)}. */
    public Builder scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
      return this;
    }

    /**
     * Spreads retries of many failing requests apart: each backoff delay {@code d} becomes a random value between
     * {@code d/2} and {@code d}. Off by default so delays are the seed's exact 2, 4, 8 … 512 s.
     */
    public Builder jitter(boolean jitter) {
      this.jitter = jitter;
      return this;
    }

    /** Calls running at once over all hosts (at least 1). */
    public Builder maxConcurrency(int maxConcurrency) {
      this.maxConcurrency = positive("maxConcurrency", maxConcurrency);
      return this;
    }

    /** Calls running at once to one {@code host:port} (at least 1). */
    public Builder maxConcurrencyPerHost(int maxConcurrencyPerHost) {
      this.maxConcurrencyPerHost = positive("maxConcurrencyPerHost", maxConcurrencyPerHost);
      return this;
    }

    /** How often one request probes a host that could not be reached; waiting spends no attempts. */
    public Builder offlineProbeInterval(Duration interval) {
      this.offlineProbeInterval = positive("offlineProbeInterval", interval);
      return this;
    }

    /** Whether POST and PATCH requests carry an {@code Idempotency-Key} header derived from the request id. */
    public Builder idempotencyKeys(boolean idempotencyKeys) {
      this.idempotencyKeys = idempotencyKeys;
      return this;
    }

    /** Timeout of requests that set none: connect, read and write inactivity, not a deadline for the whole call. */
    public Builder defaultTimeout(Duration timeout) {
      this.defaultTimeout = positive("defaultTimeout", timeout);
      return this;
    }

    /**
     * How often the directory is rescanned for requests written by other processes, in case a file-system event was
     * missed, and how often a client without the queue lock tries to take it over.
     */
    public Builder rescanInterval(Duration interval) {
      this.rescanInterval = positive("rescanInterval", interval);
      return this;
    }

    /**
     * Whether files and directories are fsynced before a request id is returned and before a status is replaced. Turning
     * it off keeps every file whole across a process crash (writes are still atomic renames) but not across a power
     * failure or kernel crash.
     */
    public Builder fsync(boolean fsync) {
      this.fsync = fsync;
      return this;
    }

    /** Base OkHttp client (proxy, TLS, interceptors…); its timeouts are replaced per request. */
    public Builder okHttpClient(OkHttpClient okHttpClient) {
      this.okHttpClient = Objects.requireNonNull(okHttpClient, "okHttpClient");
      return this;
    }

    /** Registers a listener from the start, so it also sees requests resumed at open. */
    public Builder addListener(BackgroundListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    public BackgroundOptions build() {
      return new BackgroundOptions(this);
    }

    private static int positive(String name, int value) {
      if (value < 1) throw new IllegalArgumentException(name + " must be at least 1, got " + value);
      return value;
    }

    private static Duration positive(String name, Duration value) {
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, got " + value);
      }
      return value;
    }
  }
}
