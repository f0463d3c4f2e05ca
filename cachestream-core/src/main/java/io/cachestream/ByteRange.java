package io.cachestream;

/**
 * A span of bytes {@code [start, end)}.
 *
 * @param start first byte
 * @param end one past the last byte
 */
public record ByteRange(long start, long end) {
  public ByteRange {
    if (start < 0 || end < start) {
      throw new IllegalArgumentException("bad range [" + start + ", " + end + ")");
    }
  }

  public long length() {
    return end - start;
  }
}
