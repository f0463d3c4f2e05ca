package io.cachestream.store;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;
import java.util.Map;

/**
 * The content of an entry's {@code meta.json}: what is known about one cached resource.
 *
 * <p>{@code ranges} lists the committed byte ranges {@code [start, endExclusive]}: every byte they claim was
 * forced to the data file before this meta was written (the checkpoint invariant).
 *
 * @param version format version, {@link #FORMAT_VERSION}
 * @param key cache key
 * @param url source URL as requested
 * @param finalUrl URL after redirects, or null when not redirected
 * @param length total length in bytes, or null while unknown (chunked bodies)
 * @param contentType origin {@code Content-Type}, or null
 * @param etag origin {@code ETag}, or null
 * @param lastModified origin {@code Last-Modified}, or null
 * @param headers selected origin response headers, names lower case
 * @param ranges committed ranges as {@code [start, endExclusive]} pairs
 * @param complete true once every byte of a known length is committed
 * @param created creation time, epoch millis
 * @param lastAccess last access time, epoch millis
 * @param validated time of the last response from or validation with the origin, epoch millis
 * @param expires freshness deadline from {@code Cache-Control: max-age} or {@code Expires}, epoch millis, or null
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record EntryMeta(
    int version,
    String key,
    String url,
    String finalUrl,
    Long length,
    String contentType,
    String etag,
    String lastModified,
    Map<String, String> headers,
    List<long[]> ranges,
    boolean complete,
    long created,
    long lastAccess,
    long validated,
    Long expires) {

  public static final int FORMAT_VERSION = 1;

  public EntryMeta {
    headers = headers == null ? Map.of() : Map.copyOf(headers);
    ranges = ranges == null ? List.of() : List.copyOf(ranges);
  }

  /** Committed bytes as a new mutable set. */
  public RangeSet rangeSet() {
    return RangeSet.of(ranges);
  }

  public long cachedBytes() {
    return rangeSet().totalBytes();
  }

  /**
   * Checks the claims a meta file makes before it is trusted.
   *
   * @throws IllegalStateException naming the first broken rule
   */
  void check(String expectedKey, long dataFileSize) {
    if (version != FORMAT_VERSION) {
      throw new IllegalStateException("unsupported format version " + version);
    }
    if (!expectedKey.equals(key)) {
      throw new IllegalStateException("meta belongs to another key");
    }
    if (url == null) {
      throw new IllegalStateException("no url");
    }
    if (length != null && length < 0) {
      throw new IllegalStateException("negative length " + length);
    }
    long previousEnd = -1;
    for (long[] range : ranges) {
      if (range.length != 2 || range[0] < 0 || range[1] <= range[0] || range[0] <= previousEnd) {
        throw new IllegalStateException("malformed ranges");
      }
      if (length != null && range[1] > length) {
        throw new IllegalStateException("range beyond length");
      }
      previousEnd = range[1];
    }
    if (previousEnd > dataFileSize) {
      throw new IllegalStateException("ranges claim " + previousEnd + " bytes but data holds " + dataFileSize);
    }
    if (complete && (length == null || !rangeSet().covers(0, length))) {
      throw new IllegalStateException("marked complete but bytes are missing");
    }
  }
}
