package io.cachestream.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.atomic.LongAdder;

/**
 * A read-only mapping of up to {@link #SIZE} bytes of a data file, owned by one response: the writes cut from it
 * hold it, and it is unmapped when it is retired and its last write has completed — never under a write the kernel
 * may still be copying from. Confined to the connection's event loop.
 */
final class MappedWindow {
  /** Large, because mapping and unmapping cost per window: 64 MiB windows measured a fifth slower than these. */
  static final long SIZE = 256L << 20;
  /** Windows mapped since start, for {@code /metrics}. */
  static final LongAdder MAPPED = new LongAdder();

  private final MappedByteBuffer map;
  private final long start;
  private int writes;
  private boolean retired;

  private MappedWindow(MappedByteBuffer map, long start) {
    this.map = map;
    this.start = start;
  }

  /** Maps {@code file} from {@code position} up to {@link #SIZE} bytes or its end, whichever comes first. */
  static MappedWindow map(FileChannel file, long position) throws IOException {
    long size = Math.min(SIZE, file.size() - position);
    if (size <= 0) {
      throw new IOException("cache data ends before " + position);
    }
    MappedWindow window = new MappedWindow(file.map(FileChannel.MapMode.READ_ONLY, position, size), position);
    MAPPED.increment();
    return window;
  }

  /** True if this window holds the byte at {@code position}. */
  boolean covers(long position) {
    return !retired && position >= start && position < end();
  }

  /** Exclusive end of the mapped bytes. */
  long end() {
    return start + map.capacity();
  }

  /**
   * The bytes {@code [position, position + count)}, which must lie inside the window, as a buffer for one write;
   * call {@link #written()} when that write completes, however it completes.
   */
  ByteBuf slice(long position, long count) {
    writes++;
    return Unpooled.wrappedBuffer(map.slice((int) (position - start), (int) count));
  }

  void written() {
    if (--writes == 0 && retired) {
      PlatformDependent.freeDirectBuffer(map);
    }
  }

  /** No more slices will be cut: unmapped now, or after the last outstanding write. */
  void retire() {
    if (!retired) {
      retired = true;
      if (writes == 0) {
        PlatformDependent.freeDirectBuffer(map);
      }
    }
  }
}
