package io.cachestream.background;

/**
 * Which failures are retried (as long as the request has retries left). Failures to reach the host at all (unknown
 * host, connection refused, no route) are never counted as attempts under either policy: the request waits for the
 * network instead.
 */
public enum RetryPolicy {
  /**
   * The seed plugin's rule and the default: timeouts, network errors and every HTTP status of 400 or more are retried.
   */
  ALL_ERRORS,
  /**
   * Only what may go away by itself: network errors, timeouts, 408 Request Timeout, 429 Too Many Requests and every 5xx.
   * Other 4xx statuses fail the request at once.
   */
  TRANSIENT;

  /** Whether an HTTP response with {@code code} (400 or more) should be retried. */
  public boolean retries(int code) {
    if (code < 400) return false;
    return this == ALL_ERRORS || code == 408 || code == 429 || code >= 500;
  }
}
