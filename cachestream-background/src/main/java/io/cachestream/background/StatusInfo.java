package io.cachestream.background;

import java.time.Instant;

/**
 * A snapshot of one request's {@code status.json}.
 *
 * @param id the request id
 * @param status where the request stands
 * @param method the HTTP method
 * @param url the full URL, query parameters included
 * @param attempts attempts that reached a verdict; waiting for the network does not count, and neither does an attempt
 *     cut short by a crash or by {@link BackgroundHttpClient#close()}
 * @param retries retries allowed after the first attempt (0 to 10)
 * @param createdAt when the request was enqueued
 * @param updatedAt when this status was written
 * @param nextAttemptAt when the next attempt is due while waiting for a retry or the network, otherwise null
 * @param lastError why the last attempt did not succeed (or why the request failed), otherwise null
 */
public record StatusInfo(
    String id,
    RequestStatus status,
    String method,
    String url,
    int attempts,
    int retries,
    Instant createdAt,
    Instant updatedAt,
    Instant nextAttemptAt,
    String lastError) {

  /** Shorthand for {@code status().isFinal()}. */
  public boolean isFinal() {
    return status.isFinal();
  }

  StatusInfo with(RequestStatus newStatus, int newAttempts, Instant now, Instant next, String error) {
    return new StatusInfo(id, newStatus, method, url, newAttempts, retries, createdAt, now, next, error);
  }
}
