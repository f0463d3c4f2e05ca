package io.cachestream.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A set of byte offsets stored as disjoint, non-adjacent half-open ranges {@code [start, end)}.
 *
 * <p>Not thread-safe: the owner (one resource) guards it with its own lock. All operations are O(log n) in the
 * number of ranges, which stays small because adjacent ranges merge.
 */
public final class RangeSet {
  private final TreeMap<Long, Long> ranges = new TreeMap<>();
  private long total;

  public RangeSet() {}

  /** Builds a set from {@code [start, end)} pairs, which may overlap. */
  public static RangeSet of(List<long[]> pairs) {
    RangeSet set = new RangeSet();
    for (long[] pair : pairs) {
      set.add(pair[0], pair[1]);
    }
    return set;
  }

  public RangeSet copy() {
    RangeSet copy = new RangeSet();
    copy.ranges.putAll(ranges);
    copy.total = total;
    return copy;
  }

  /** Adds {@code [start, end)}; merges with overlapping and adjacent ranges. */
  public void add(long start, long end) {
    if (start < 0 || end < start) {
      throw new IllegalArgumentException("bad range [" + start + ", " + end + ")");
    }
    if (start == end) {
      return;
    }
    Map.Entry<Long, Long> before = ranges.floorEntry(start);
    if (before != null && before.getValue() >= start) {
      if (before.getValue() >= end) {
        return;
      }
      start = before.getKey();
      total -= before.getValue() - before.getKey();
      ranges.remove(before.getKey());
    }
    Map.Entry<Long, Long> next;
    while ((next = ranges.ceilingEntry(start)) != null && next.getKey() <= end) {
      end = Math.max(end, next.getValue());
      total -= next.getValue() - next.getKey();
      ranges.remove(next.getKey());
    }
    ranges.put(start, end);
    total += end - start;
  }

  /** True if {@code offset} is in the set. */
  public boolean contains(long offset) {
    return contiguousEnd(offset) > offset;
  }

  /**
   * The end of the range holding {@code offset}, or {@code offset} itself when it is not in the set. So
   * {@code contiguousEnd(p) - p} is the number of bytes present from {@code p} on without a gap.
   */
  public long contiguousEnd(long offset) {
    Map.Entry<Long, Long> e = ranges.floorEntry(offset);
    return e != null && e.getValue() > offset ? e.getValue() : offset;
  }

  /** The start of the first range beginning after {@code offset}, or {@code Long.MAX_VALUE} if none. */
  public long nextStartAfter(long offset) {
    Long key = ranges.higherKey(offset);
    return key == null ? Long.MAX_VALUE : key;
  }

  /** The first offset in {@code [from, limit)} not in the set, or {@code -1} if the whole span is present. */
  public long firstGap(long from, long limit) {
    long gap = contiguousEnd(from);
    return gap < limit ? gap : -1;
  }

  /** True if every byte of {@code [start, end)} is present. */
  public boolean covers(long start, long end) {
    return start >= end || contiguousEnd(start) >= end;
  }

  /** Number of bytes in the set. */
  public long totalBytes() {
    return total;
  }

  /** The highest offset present plus one, or 0 for an empty set. */
  public long maxEnd() {
    return ranges.isEmpty() ? 0 : ranges.lastEntry().getValue();
  }

  public boolean isEmpty() {
    return ranges.isEmpty();
  }

  public void clear() {
    ranges.clear();
    total = 0;
  }

  /** The ranges as {@code [start, end)} pairs in ascending order. */
  public List<long[]> toList() {
    List<long[]> list = new ArrayList<>(ranges.size());
    ranges.forEach((s, e) -> list.add(new long[] {s, e}));
    return list;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RangeSet other && other.ranges.equals(ranges);
  }

  @Override
  public int hashCode() {
    return ranges.hashCode();
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("[");
    ranges.forEach((s, e) -> sb.append(sb.length() > 1 ? ", " : "").append('[').append(s).append(", ").append(e).append(')'));
    return sb.append(']').toString();
  }
}
