package io.cachestream.background;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;

/** Tells "could not reach the host at all" (wait for the network, no attempt spent) from other I/O failures. */
final class Failures {
  private Failures() {}

  /**
   * True for unknown host, connection refused and no route to host, looking through causes and suppressed exceptions
   * (OkHttp wraps and collects per-route failures). A timeout anywhere makes it a normal failure: a silent host may be
   * overloaded rather than unreachable, and the attempt must count so it cannot wait forever.
   */
  static boolean isUnreachable(Throwable e) {
    if (contains(e, SocketTimeoutException.class, 0)) return false;
    return contains(e, UnknownHostException.class, 0)
        || contains(e, ConnectException.class, 0)
        || contains(e, NoRouteToHostException.class, 0)
        || contains(e, PortUnreachableException.class, 0);
  }

  private static boolean contains(Throwable e, Class<? extends Throwable> type, int depth) {
    if (e == null || depth > 8) return false;
    if (type.isInstance(e)) return true;
    for (Throwable s : e.getSuppressed()) {
      if (contains(s, type, depth + 1)) return true;
    }
    return e.getCause() != e && contains(e.getCause(), type, depth + 1);
  }

  /** A one-line description for {@code lastError}. */
  static String describe(Throwable e) {
    String message = e.getMessage();
    return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }
}
