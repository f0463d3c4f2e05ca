package io.cachestream;

import java.time.Duration;
import java.util.Objects;

/**
 * What happens to a resource's stream once nobody holds it (no client connection, no unreleased
 * {@link CacheStream}): downloads pause after {@code pauseAfter} and the stream is disposed (files closed, memory
 * freed; the cache stays) after {@code disposeAfter}.
 *
 * @param pauseAfter idle time before running downloads stop; zero stops them at once
 * @param disposeAfter idle time before the stream is disposed; at least {@code pauseAfter}
 */
public record StreamLifecycle(Duration pauseAfter, Duration disposeAfter) {
  /** Pause after 10 seconds, dispose after 60 seconds. */
  public static final StreamLifecycle DEFAULT = new StreamLifecycle(Duration.ofSeconds(10), Duration.ofSeconds(60));

  public StreamLifecycle {
    Objects.requireNonNull(pauseAfter, "pauseAfter");
    Objects.requireNonNull(disposeAfter, "disposeAfter");
    if (pauseAfter.isNegative()) {
      throw new IllegalArgumentException("pauseAfter must not be negative: " + pauseAfter);
    }
    if (disposeAfter.compareTo(pauseAfter) < 0) {
      throw new IllegalArgumentException(
          "disposeAfter must be at least pauseAfter: disposeAfter=" + disposeAfter + ", pauseAfter=" + pauseAfter);
    }
  }
}
