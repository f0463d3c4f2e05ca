package io.cachestream.engine;

import java.io.Closeable;
import java.io.IOException;
import okhttp3.Response;
import okio.BufferedSource;

/**
 * Bytes of a resource read straight from the origin for one reader, without caching: what a reader falls back to
 * when the cache cannot store the resource (a full disk). Not thread-safe; close it.
 */
public final class DirectStream implements Closeable {
  private final Response response;
  private final BufferedSource source;

  DirectStream(Response response, BufferedSource source) {
    this.response = response;
    this.source = source;
  }

  /** Reads up to {@code buffer.length} bytes; -1 at the end of the body. */
  public int read(byte[] buffer) throws IOException {
    return source.read(buffer);
  }

  @Override
  public void close() {
    response.close();
  }
}
