package io.cachestream.store;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Cached bytes in a read-only mapping of an entry's data file ({@link CacheEntry#mapped}), to be sent with
 * {@code write(2)} and then released. Until it is released, the mapping behind it stays: never read it from Java
 * (a data file truncated under it would fault), only hand its {@link #buffer} to the kernel.
 */
public final class MappedSpan {
  private final ByteBuffer buffer;
  private final Runnable onRelease;
  private final AtomicBoolean released = new AtomicBoolean();

  MappedSpan(ByteBuffer buffer, Runnable onRelease) {
    this.buffer = buffer;
    this.onRelease = onRelease;
  }

  /** The bytes: a direct buffer over the mapping, position 0, as many bytes as it holds. */
  public ByteBuffer buffer() {
    return buffer;
  }

  /** Gives the span back; the mapping may go once every span of it is released. Idempotent. */
  public void release() {
    if (released.compareAndSet(false, true)) {
      onRelease.run();
    }
  }
}
