package io.cachestream.background;

/**
 * Receives events for requests run by the client the listener is registered with. Requests run by another process
 * produce no events here; wait for them with {@link BackgroundHttpClient#completion(String)}.
 *
 * <p>Threading: methods are called on the client's worker or timer threads, possibly concurrently for different
 * requests. They must return quickly and must not block; an exception thrown by a listener is logged and ignored.
 */
public interface BackgroundListener {
  /** Called after a new status has been written (enqueued, retry scheduled, finished, cancelled…). */
  default void onStatus(StatusInfo status) {}

  /** Called as request and response bodies move, at most every 64 KiB or so. */
  default void onProgress(Progress progress) {}
}
