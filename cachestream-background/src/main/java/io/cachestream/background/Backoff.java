package io.cachestream.background;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.concurrent.ThreadLocalRandom;

/** The seed's retry timing: 2, 4, 8 … 512 s, optionally jittered, and the server's {@code Retry-After}. */
final class Backoff {
  static final Duration MAX = Duration.ofSeconds(512);

  private Backoff() {}

  /** The wait after the {@code failures}-th failed attempt (1 → 2 s, 2 → 4 s, … capped at 512 s). */
  static Duration delay(int failures, boolean jitter) {
    long seconds = failures >= 9 ? MAX.getSeconds() : 1L << Math.max(1, failures);
    Duration d = Duration.ofSeconds(seconds);
    if (!jitter) return d;
    long half = d.toMillis() / 2;
    return Duration.ofMillis(half + ThreadLocalRandom.current().nextLong(half + 1));
  }

  /**
   * Parses {@code Retry-After} (delay seconds or an HTTP date), capped at {@link #MAX} so a misbehaving server cannot
   * park a request for days. Null if absent or unparsable, in which case the normal backoff applies.
   */
  static Duration retryAfter(String header, Instant now) {
    if (header == null || header.isBlank()) return null;
    Duration d;
    try {
      d = Duration.ofSeconds(Long.parseLong(header.trim()));
    } catch (NumberFormatException e) {
      try {
        d = Duration.between(now, ZonedDateTime.parse(header.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
      } catch (DateTimeParseException e2) {
        return null;
      }
    }
    if (d.isNegative()) return Duration.ZERO;
    return d.compareTo(MAX) > 0 ? MAX : d;
  }
}
