package io.cachestream;

import java.net.URI;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What the cache holds for one resource, as last checkpointed (the seed's {@code CacheMetadata}).
 *
 * @param source the source URL
 * @param finalUrl the URL after redirects, or null when not redirected
 * @param length total length, or null while unknown
 * @param headers origin response headers kept with the entry (lower-case names)
 * @param ranges committed byte ranges
 * @param cachedBytes committed bytes in all
 * @param complete true when every byte is committed
 * @param created when the entry was created
 * @param lastAccess when the entry was last used
 * @param dataFile the sparse data file
 * @param metaFile the {@code meta.json} file
 */
public record CacheMetadata(
    URI source,
    String finalUrl,
    Long length,
    Map<String, String> headers,
    List<ByteRange> ranges,
    long cachedBytes,
    boolean complete,
    Instant created,
    Instant lastAccess,
    Path dataFile,
    Path metaFile) {
  public CacheMetadata {
    headers = Map.copyOf(headers);
    ranges = List.copyOf(ranges);
  }
}
