package io.cachestream.hls;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An HLS playlist (RFC 8216) as text lines with their original line endings, so that rewriting touches only the
 * URIs and leaves every other byte as it was.
 *
 * <p>URIs appear in two places: lines of their own (media segments, and variant streams after
 * {@code EXT-X-STREAM-INF}) and {@code URI="…"} attributes of tags ({@code EXT-X-MEDIA}, {@code EXT-X-KEY},
 * {@code EXT-X-MAP}, {@code EXT-X-I-FRAME-STREAM-INF}, {@code EXT-X-SESSION-KEY}, {@code EXT-X-SESSION-DATA},
 * {@code EXT-X-PART}, {@code EXT-X-PRELOAD-HINT}, {@code EXT-X-RENDITION-REPORT}).
 */
public final class Playlist {
  private static final Pattern URI_ATTRIBUTE = Pattern.compile("([:,]\\s*URI=\")([^\"]*)(\")");
  private static final Pattern BANDWIDTH = Pattern.compile("[:,]\\s*BANDWIDTH=(\\d+)");
  private static final Pattern TARGET_DURATION = Pattern.compile("#EXT-X-TARGETDURATION:\\s*(\\d+)");
  /** The largest body treated as a playlist; anything bigger is served as plain bytes. */
  public static final int MAX_SIZE = 16 << 20;

  private final List<String> lines;
  private final List<String> endings;

  private Playlist(List<String> lines, List<String> endings) {
    this.lines = lines;
    this.endings = endings;
  }

  /** True if {@code source} or its content type says HLS playlist. */
  public static boolean looksLikePlaylist(URI source, String contentType) {
    String path = source.getRawPath() == null ? "" : source.getRawPath().toLowerCase(Locale.ROOT);
    if (path.endsWith(".m3u8") || path.endsWith(".m3u")) {
      return true;
    }
    if (contentType == null) {
      return false;
    }
    String type = contentType.toLowerCase(Locale.ROOT);
    return type.startsWith("application/vnd.apple.mpegurl") || type.startsWith("application/x-mpegurl")
        || type.startsWith("audio/mpegurl") || type.startsWith("audio/x-mpegurl");
  }

  /** True if the body starts with {@code #EXTM3U} (after an optional byte order mark). */
  public static boolean hasPlaylistHeader(byte[] body) {
    int start = body.length >= 3 && (body[0] & 0xff) == 0xEF && (body[1] & 0xff) == 0xBB
        && (body[2] & 0xff) == 0xBF ? 3 : 0;
    byte[] magic = "#EXTM3U".getBytes(StandardCharsets.US_ASCII);
    if (body.length - start < magic.length) {
      return false;
    }
    for (int i = 0; i < magic.length; i++) {
      if (body[start + i] != magic[i]) {
        return false;
      }
    }
    return true;
  }

  /** Splits {@code body} (UTF-8) into lines, keeping each line's ending ({@code \n}, {@code \r\n} or none). */
  public static Playlist parse(byte[] body) {
    String text = new String(body, StandardCharsets.UTF_8);
    List<String> lines = new ArrayList<>();
    List<String> endings = new ArrayList<>();
    int i = 0;
    while (i < text.length()) {
      int nl = text.indexOf('\n', i);
      if (nl < 0) {
        lines.add(text.substring(i));
        endings.add("");
        break;
      }
      boolean crlf = nl > i && text.charAt(nl - 1) == '\r';
      lines.add(text.substring(i, crlf ? nl - 1 : nl));
      endings.add(crlf ? "\r\n" : "\n");
      i = nl + 1;
    }
    return new Playlist(lines, endings);
  }

  /**
   * The playlist with every URI that would not resolve through the proxy by itself rewritten by {@code proxy}: an
   * absolute http(s) URI, or a root-relative one (resolved against {@code base} first). Relative URIs resolve
   * against the proxy URL of the playlist on their own and stay as they are, like every other byte.
   */
  public byte[] rewrite(URI base, UnaryOperator<URI> proxy) {
    return rewrite(base, proxy, false);
  }

  /**
   * Like {@link #rewrite(URI, UnaryOperator)}; with {@code relativeToo} every URI is resolved against {@code base}
   * and rewritten, for a playlist that came from another URL than the one the player asked for (a redirect).
   */
  public byte[] rewrite(URI base, UnaryOperator<URI> proxy, boolean relativeToo) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      String trimmed = line.strip();
      if (trimmed.startsWith("#")) {
        Matcher m = URI_ATTRIBUTE.matcher(line);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
          String replacement = rewriteUri(m.group(2), base, proxy, relativeToo);
          m.appendReplacement(sb, Matcher.quoteReplacement(m.group(1) + replacement + m.group(3)));
        }
        m.appendTail(sb);
        out.append(sb);
      } else if (!trimmed.isEmpty()) {
        int lead = line.indexOf(trimmed);
        out.append(line, 0, lead).append(rewriteUri(trimmed, base, proxy, relativeToo))
            .append(line, lead + trimmed.length(), line.length());
      } else {
        out.append(line);
      }
      out.append(endings.get(i));
    }
    return out.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static String rewriteUri(String uri, URI base, UnaryOperator<URI> proxy, boolean relativeToo) {
    String lower = uri.toLowerCase(Locale.ROOT);
    try {
      if (lower.startsWith("http://") || lower.startsWith("https://")) {
        return proxy.apply(URI.create(uri)).toString();
      }
      boolean hasScheme = lower.matches("^[a-z][a-z0-9+.-]*:.*");
      if (!hasScheme && (relativeToo || (uri.startsWith("/") && !uri.startsWith("//")))) {
        URI resolved = base.resolve(uri);
        String scheme = resolved.getScheme() == null ? "" : resolved.getScheme().toLowerCase(Locale.ROOT);
        if (scheme.equals("http") || scheme.equals("https")) {
          return proxy.apply(resolved).toString();
        }
      }
    } catch (IllegalArgumentException e) {
      // Not a URI we can map (bad syntax, another scheme): leave it exactly as the origin wrote it.
    }
    return uri;
  }

  /** True for a VOD or finished event playlist ({@code EXT-X-ENDLIST}): it will not change. */
  public boolean isEnded() {
    return lines.stream().anyMatch(l -> l.strip().equals("#EXT-X-ENDLIST"));
  }

  /** {@code EXT-X-TARGETDURATION} in seconds, or -1. */
  public int targetDurationSeconds() {
    for (String line : lines) {
      Matcher m = TARGET_DURATION.matcher(line.strip());
      if (m.matches()) {
        return Integer.parseInt(m.group(1));
      }
    }
    return -1;
  }

  /** A variant stream of a master playlist. */
  public record Variant(long bandwidth, URI uri) {}

  /** The variant streams ({@code EXT-X-STREAM-INF} and the URI line after it), resolved against {@code base}. */
  public List<Variant> variants(URI base) {
    List<Variant> variants = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.startsWith("#EXT-X-STREAM-INF")) {
        Matcher bw = BANDWIDTH.matcher(line);
        long bandwidth = bw.find() ? Long.parseLong(bw.group(1)) : 0;
        for (int j = i + 1; j < lines.size(); j++) {
          String next = lines.get(j).strip();
          if (!next.isEmpty() && !next.startsWith("#")) {
            variants.add(new Variant(bandwidth, base.resolve(next)));
            break;
          }
        }
      }
    }
    return variants;
  }

  /**
   * Everything a player of this media playlist fetches: segments, keys ({@code EXT-X-KEY} with a URI),
   * initialization sections ({@code EXT-X-MAP}), resolved against {@code base}, in order, without duplicates.
   */
  public List<URI> mediaUris(URI base) {
    Set<URI> uris = new LinkedHashSet<>();
    for (String raw : lines) {
      String line = raw.strip();
      if (line.startsWith("#EXT-X-KEY") || line.startsWith("#EXT-X-MAP")) {
        Matcher m = URI_ATTRIBUTE.matcher(line);
        if (m.find() && !m.group(2).startsWith("skd:") && !m.group(2).startsWith("data:")) {
          uris.add(base.resolve(m.group(2)));
        }
      } else if (!line.isEmpty() && !line.startsWith("#")) {
        uris.add(base.resolve(line));
      }
    }
    return new ArrayList<>(uris);
  }

  /** Renditions named by {@code EXT-X-MEDIA} tags (alternative audio, subtitles), resolved against {@code base}. */
  public List<URI> renditionUris(URI base) {
    List<URI> uris = new ArrayList<>();
    for (String raw : lines) {
      String line = raw.strip();
      if (line.startsWith("#EXT-X-MEDIA:")) {
        Matcher m = URI_ATTRIBUTE.matcher(line);
        if (m.find()) {
          uris.add(base.resolve(m.group(2)));
        }
      }
    }
    return uris;
  }
}
