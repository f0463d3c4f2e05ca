package io.cachestream.background;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The saved response of a finished request.
 *
 * @param id the request id
 * @param statusCode the HTTP status code of the final response
 * @param headers response headers, names lower case, values in arrival order
 * @param bodyFile the file holding the complete response body (empty for HEAD and bodiless responses)
 * @param bodyLength the body file's length in bytes
 */
public record ResponseInfo(
    String id, int statusCode, Map<String, List<String>> headers, Path bodyFile, long bodyLength) {

  public ResponseInfo {
    headers = Map.copyOf(headers);
  }

  /** The first value of header {@code name} (case-insensitive), or null. */
  public String header(String name) {
    List<String> values = headers.get(name.toLowerCase(java.util.Locale.ROOT));
    return values == null || values.isEmpty() ? null : values.get(0);
  }
}
