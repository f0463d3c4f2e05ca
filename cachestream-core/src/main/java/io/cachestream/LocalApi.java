package io.cachestream;

import java.util.Map;

/**
 * An extra endpoint mounted on the daemon's loopback API under {@code /api/<name>}.
 *
 * <p>Lets modules that do not depend on Netty (such as the background HTTP client) answer HTTP calls on the
 * same port as the stream cache. The server has already checked the {@code Host} header and, for mutating
 * methods (anything but GET and HEAD), the daemon token before calling {@link #handle}.
 *
 * <p>Threading: {@link #handle} is called on a worker thread, never on a network event loop, and may block briefly
 * (file I/O). It may be called concurrently.
 */
@FunctionalInterface
public interface LocalApi {

  /**
   * Answers one request.
   *
   * @param method the HTTP method, upper case
   * @param path the raw path below the mount point, starting with {@code /} (empty mount path is {@code /}),
   *     without the query
   * @param query the raw query string without {@code ?}, or the empty string
   * @param headers request headers, names lower case
   * @param body the request body, possibly empty (bodies are limited to 16 MiB)
   * @return the response; never null
   * @throws Exception on failure, answered as 500 with the exception message
   */
  Response handle(String method, String path, String query, Map<String, String> headers, byte[] body)
      throws Exception;

  /** A complete response: status, content type (null for none) and body. */
  record Response(int status, String contentType, byte[] body) {
    /** A JSON response. */
    public static Response json(int status, byte[] json) {
      return new Response(status, "application/json", json);
    }
  }
}
