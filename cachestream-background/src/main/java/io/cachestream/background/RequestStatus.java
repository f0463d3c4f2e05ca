package io.cachestream.background;

import java.util.Locale;

/** Where a request stands. Only {@link #IN_PROGRESS} ever changes; the other three are final. */
public enum RequestStatus {
  /** Queued, running, waiting for a retry or waiting for the network. */
  IN_PROGRESS,
  /** The origin answered with a status below 400; the response is saved. */
  COMPLETED,
  /**
   * Gave up: retries exhausted, an error the {@link RetryPolicy} does not retry, or an unusable saved request. If the
   * origin answered, its last response is saved.
   */
  FAILED,
  /** Cancelled by the user; never attempted again. */
  CANCELLED;

  /** The lower-case name used in files, the CLI and the HTTP API: {@code in_progress}, {@code completed}, … */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** True for every status but {@link #IN_PROGRESS}. */
  public boolean isFinal() {
    return this != IN_PROGRESS;
  }

  /**
   * Parses a {@link #wireName()} (case-insensitive; {@code -} accepted for {@code _}).
   *
   * @throws IllegalArgumentException if {@code name} is not a status
   */
  public static RequestStatus fromWireName(String name) {
    for (RequestStatus s : values()) {
      if (s.wireName().equalsIgnoreCase(name.replace('-', '_'))) return s;
    }
    throw new IllegalArgumentException(
        "unknown status '" + name + "' (expected in_progress, completed, failed or cancelled)");
  }
}
