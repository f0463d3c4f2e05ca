package io.cachestream.engine;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Function;
import okhttp3.Response;

/**
 * What the origin said about a resource: length and the headers worth keeping.
 *
 * @param length total length in bytes, or -1 while unknown (a chunked body before its end)
 * @param headers selected origin headers (lower-case names), including content-type, etag and last-modified
 * @param finalUrl the URL after redirects, or null when not redirected
 */
public record ResourceInfo(long length, Map<String, String> headers, String finalUrl) {
  /** Origin response headers kept in meta and replayed to clients. */
  static final String[] KEPT_HEADERS = {
    "content-type", "etag", "last-modified", "cache-control", "expires", "content-disposition",
    "content-language", "access-control-allow-origin"
  };

  public ResourceInfo {
    headers = Map.copyOf(headers);
  }

  static ResourceInfo from(Response response, long length, String requestedUrl) {
    return from(response::header, length, response.request().url().toString(), requestedUrl);
  }

  /**
   * The description in a response's head.
   *
   * @param header the response's header of a name, or null
   * @param answeredUrl the URL that answered (after redirects)
   */
  static ResourceInfo from(Function<String, String> header, long length, String answeredUrl, String requestedUrl) {
    Map<String, String> kept = new TreeMap<>();
    for (String name : KEPT_HEADERS) {
      String value = header.apply(name);
      if (value != null) {
        kept.put(name, value);
      }
    }
    return new ResourceInfo(length, kept, answeredUrl.equals(requestedUrl) ? null : answeredUrl);
  }

  public String contentType() {
    return headers.get("content-type");
  }

  public String etag() {
    return headers.get("etag");
  }

  public String lastModified() {
    return headers.get("last-modified");
  }

  public boolean lengthKnown() {
    return length >= 0;
  }

  /**
   * Until when (epoch millis) a response received at {@code receivedAt} is fresh: {@code Cache-Control} max-age
   * (no-cache and no-store make it stale at once), else {@code Expires}; null when the origin said neither.
   */
  Long freshUntil(long receivedAt) {
    String cacheControl = headers.get("cache-control");
    if (cacheControl != null) {
      for (String directive : cacheControl.toLowerCase(Locale.ROOT).split(",")) {
        String d = directive.trim();
        if (d.equals("no-cache") || d.equals("no-store")) {
          return receivedAt;
        }
        if (d.startsWith("max-age=")) {
          try {
            return receivedAt + Math.max(0, Long.parseLong(d.substring(8).replace("\"", ""))) * 1000;
          } catch (NumberFormatException e) {
            return receivedAt;
          }
        }
      }
    }
    String expires = headers.get("expires");
    if (expires != null) {
      try {
        return ZonedDateTime.parse(expires.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
      } catch (DateTimeParseException e) {
        return receivedAt; // an invalid Expires means already expired (RFC 9111)
      }
    }
    return null;
  }

  ResourceInfo withLength(long newLength) {
    return new ResourceInfo(newLength, headers, finalUrl);
  }

  /** The validator for {@code If-Range}: a strong ETag, else Last-Modified, else null. */
  String ifRangeValidator() {
    String etag = etag();
    if (etag != null && !etag.startsWith("W/")) {
      return etag;
    }
    return lastModified();
  }

  /**
   * True if {@code fresh} describes another version of the resource than this: validators differ, or, lacking
   * validators, lengths do.
   */
  boolean isOtherVersion(ResourceInfo fresh) {
    if (etag() != null && fresh.etag() != null) {
      return !etag().equals(fresh.etag());
    }
    if (lastModified() != null && fresh.lastModified() != null) {
      return !lastModified().equals(fresh.lastModified());
    }
    return lengthKnown() && fresh.lengthKnown() && length != fresh.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ResourceInfo r && r.length == length && r.headers.equals(headers)
        && Objects.equals(r.finalUrl, finalUrl);
  }

  @Override
  public int hashCode() {
    return Objects.hash(length, headers, finalUrl);
  }
}
