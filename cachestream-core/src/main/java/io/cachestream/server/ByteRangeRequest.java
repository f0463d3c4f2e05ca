package io.cachestream.server;

import java.util.Locale;

/**
 * A client's {@code Range} header, parsed once and resolved against a length. Only single ranges are served as
 * 206; a multi-range request gets the whole body (RFC 9110 allows it), a header of another unit is ignored and a
 * malformed {@code bytes=} header is unsatisfiable (as nginx answers it).
 */
final class ByteRangeRequest {
  enum Kind { NONE, SINGLE, MULTIPLE, INVALID }

  /** The most bytes a {@code Range} header may have before it is not even looked at. */
  private static final int MAX_HEADER = 4096;

  final Kind kind;
  /** First byte, or -1 for a suffix range. */
  final long first;
  /** Last byte (inclusive), -1 for open-ended; for a suffix range, the suffix length. */
  final long last;

  private ByteRangeRequest(Kind kind, long first, long last) {
    this.kind = kind;
    this.first = first;
    this.last = last;
  }

  static final ByteRangeRequest NONE = new ByteRangeRequest(Kind.NONE, 0, -1);
  private static final ByteRangeRequest MULTIPLE = new ByteRangeRequest(Kind.MULTIPLE, 0, -1);
  private static final ByteRangeRequest INVALID = new ByteRangeRequest(Kind.INVALID, 0, -1);

  static ByteRangeRequest parse(String header) {
    if (header == null) {
      return NONE;
    }
    String h = header.trim();
    if (h.length() > MAX_HEADER) {
      return MULTIPLE;
    }
    int eq = h.indexOf('=');
    if (eq < 0 || !h.substring(0, eq).trim().toLowerCase(Locale.ROOT).equals("bytes")) {
      return eq < 0 ? INVALID : NONE;
    }
    String spec = h.substring(eq + 1).trim();
    if (spec.indexOf(',') >= 0) {
      return MULTIPLE;
    }
    int dash = spec.indexOf('-');
    if (dash < 0) {
      return INVALID;
    }
    String a = spec.substring(0, dash).trim();
    String b = spec.substring(dash + 1).trim();
    if (a.isEmpty()) {
      long suffix = parseNumber(b);
      return suffix < 0 ? INVALID : new ByteRangeRequest(Kind.SINGLE, -1, suffix);
    }
    long first = parseNumber(a);
    if (first < 0) {
      return INVALID;
    }
    if (b.isEmpty()) {
      return new ByteRangeRequest(Kind.SINGLE, first, -1);
    }
    long last = parseNumber(b);
    if (last < 0 || last < first) {
      return INVALID;
    }
    return new ByteRangeRequest(Kind.SINGLE, first, last);
  }

  /** Digits only; values beyond 63 bits saturate at {@code Long.MAX_VALUE}; -1 if not a number. */
  private static long parseNumber(String s) {
    if (s.isEmpty() || s.length() > 40) {
      return -1;
    }
    long v = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      int digit = c - '0';
      v = v > (Long.MAX_VALUE - digit) / 10 ? Long.MAX_VALUE : v * 10 + digit;
    }
    return v;
  }

  /** True for a range that needs the length to be resolved (any single range). */
  boolean isSingle() {
    return kind == Kind.SINGLE;
  }

  /** The first byte the client wants, before the length is known (0 for suffix ranges). */
  long startHint() {
    return kind == Kind.SINGLE && first >= 0 ? first : 0;
  }

  /**
   * The inclusive span {@code [first, last]} served for {@code length}, null for the whole body, or
   * {@link #UNSATISFIABLE}.
   */
  long[] resolve(long length) {
    switch (kind) {
      case NONE:
      case MULTIPLE:
        return null;
      case INVALID:
        return UNSATISFIABLE;
      default:
        break;
    }
    if (first < 0) {
      if (last == 0 || length == 0) {
        return UNSATISFIABLE;
      }
      return new long[] {Math.max(0, length - last), length - 1};
    }
    if (first >= length) {
      return UNSATISFIABLE;
    }
    return new long[] {first, last < 0 ? length - 1 : Math.min(last, length - 1)};
  }

  static final long[] UNSATISFIABLE = new long[0];
}
