package io.cachestream.engine;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A parsed {@code Content-Range: bytes first-last/total} response header; total is -1 for {@code *}. */
record ContentRange(long first, long last, long total) {
  private static final Pattern FORMAT = Pattern.compile("bytes\\s+(\\d{1,18})-(\\d{1,18})/(\\d{1,18}|\\*)");

  /** Parses the header, or returns null for anything malformed or inconsistent. */
  static ContentRange parse(String header) {
    if (header == null) {
      return null;
    }
    Matcher m = FORMAT.matcher(header.trim());
    if (!m.matches()) {
      return null;
    }
    long first = Long.parseLong(m.group(1));
    long last = Long.parseLong(m.group(2));
    long total = m.group(3).equals("*") ? -1 : Long.parseLong(m.group(3));
    if (last < first || (total >= 0 && last >= total)) {
      return null;
    }
    return new ContentRange(first, last, total);
  }
}
