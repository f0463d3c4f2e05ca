package io.cachestream.background;

/**
 * Bytes moved so far by the running attempt of a request.
 *
 * @param id the request id
 * @param direction whether the request body is being sent or the response body received
 * @param bytes bytes transferred so far in this direction (for a resumed download, counting the bytes already saved)
 * @param total the expected total, or -1 when unknown
 */
public record Progress(String id, Direction direction, long bytes, long total) {
  /** Which body is moving. */
  public enum Direction {
    UPLOAD,
    DOWNLOAD
  }
}
