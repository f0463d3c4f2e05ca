package io.cachestream.background;

import java.io.IOException;
import java.time.Duration;
import okhttp3.Call;

/**
 * One request's handle while it is owned by the queue: lets {@link RequestQueue#cancel} stop a running call from
 * another thread. Fields other than the volatile ones are guarded by the queue's lock.
 */
final class Attempt {
  final String id;
  final RequestQueue.Host host;
  Scheduler.Cancellable timer;
  boolean running;
  private volatile Call call;
  private volatile boolean cancelled;
  /** Set once a final status was written; later writes (a call finishing after cancel) are dropped. */
  volatile boolean finalWritten;

  Attempt(String id, RequestQueue.Host host) {
    this.id = id;
    this.host = host;
  }

  /** Publishes the running call; cancels it at once if a cancel came first. */
  void bind(Call call) {
    this.call = call;
    if (cancelled) call.cancel();
  }

  void cancel() {
    cancelled = true;
    Call c = call;
    if (c != null) c.cancel();
  }

  boolean isCancelled() {
    return cancelled;
  }

  /** What one run of {@link CallRunner} came to. */
  sealed interface Outcome {}

  /**
   * The origin answered. {@code saved} is true if this is the final answer and its body is now {@code response.body}.
   */
  record Answered(int code, String message, boolean saved, Duration retryAfter) implements Outcome {}

  /** The call failed; {@code unreachable} means the host could not be reached at all (no attempt spent). */
  record Failed(IOException error, boolean unreachable) implements Outcome {}

  /** The stored request cannot be sent any more (e.g. a multipart file was deleted); retrying will not help. */
  record Unsendable(String reason) implements Outcome {}
}
