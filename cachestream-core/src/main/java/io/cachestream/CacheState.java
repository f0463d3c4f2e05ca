package io.cachestream;

import java.util.List;

/**
 * A snapshot of one stream's download and cache (the seed's {@code CacheState}).
 *
 * @param position bytes present from byte 0 on without a gap: how far sequential playback can go offline
 * @param sourceLength the total length, or null while unknown
 * @param cachedBytes bytes present in all
 * @param ranges the present byte ranges, ascending
 * @param status what the stream is doing
 */
public record CacheState(long position, Long sourceLength, long cachedBytes, List<ByteRange> ranges, Status status) {
  public CacheState {
    ranges = List.copyOf(ranges);
  }

  /** Where a stream is in its life. */
  public enum Status {
    /** Nothing is downloading and the resource is not complete. */
    IDLE,
    /** At least one download is running. */
    DOWNLOADING,
    /** Every byte is cached. */
    COMPLETE,
    /** The stream was closed; the cache stays. */
    CLOSED
  }

  /** True once every byte of a known length is cached. */
  public boolean isComplete() {
    return status == Status.COMPLETE;
  }
}
