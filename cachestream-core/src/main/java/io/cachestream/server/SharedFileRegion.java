package io.cachestream.server;

import io.netty.channel.DefaultFileRegion;
import java.nio.channels.FileChannel;

/**
 * A zero-copy region of a cache data file that many connections share: unlike {@link DefaultFileRegion}, releasing
 * it does not close the file, which belongs to the resource.
 */
final class SharedFileRegion extends DefaultFileRegion {
  SharedFileRegion(FileChannel file, long position, long count) {
    super(file, position, count);
  }

  @Override
  protected void deallocate() {
    // The file channel is owned by the cache entry.
  }
}
