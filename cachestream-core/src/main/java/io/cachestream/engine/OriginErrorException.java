package io.cachestream.engine;

import java.io.IOException;

/**
 * The origin answered with a status that is not content (4xx, 5xx, or an unexpected 3xx): passed through to the
 * client as is, and nothing is cached.
 */
public final class OriginErrorException extends IOException {
  private final int status;
  private final String contentType;
  private final byte[] body;

  OriginErrorException(int status, String contentType, byte[] body) {
    super("origin answered " + status);
    this.status = status;
    this.contentType = contentType;
    this.body = body;
  }

  public int status() {
    return status;
  }

  /** The origin's Content-Type, or null. */
  public String contentType() {
    return contentType;
  }

  /** The origin's body, truncated to {@link Fetch#MAX_ERROR_BODY} bytes. */
  public byte[] body() {
    return body.clone();
  }
}
