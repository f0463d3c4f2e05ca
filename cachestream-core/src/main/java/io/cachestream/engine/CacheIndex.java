package io.cachestream.engine;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Size and last access of every cache entry, for least-recently-used eviction under a byte budget. Filled from
 * the metas on disk in the background at start, then kept current by the resources. Thread-safe.
 */
final class CacheIndex {
  private final Map<String, long[]> entries = new HashMap<>();
  private long total;

  /** Records an entry found on disk unless a live resource recorded it first. */
  synchronized void discovered(String key, long lastAccess, long bytes) {
    if (!entries.containsKey(key)) {
      entries.put(key, new long[] {lastAccess, bytes});
      total += bytes;
    }
  }

  synchronized void touch(String key, long now) {
    entries.computeIfAbsent(key, k -> new long[2])[0] = now;
  }

  synchronized void grow(String key, long bytes) {
    entries.computeIfAbsent(key, k -> new long[] {System.currentTimeMillis(), 0})[1] += bytes;
    total += bytes;
  }

  synchronized void clear(String key) {
    long[] e = entries.get(key);
    if (e != null) {
      total -= e[1];
      e[1] = 0;
    }
  }

  synchronized void remove(String key) {
    long[] e = entries.remove(key);
    if (e != null) {
      total -= e[1];
    }
  }

  synchronized long totalBytes() {
    return total;
  }

  synchronized long bytesOf(String key) {
    long[] e = entries.get(key);
    return e == null ? 0 : e[1];
  }

  /** Keys, least recently used first. */
  synchronized List<String> leastRecentlyUsedFirst() {
    List<Map.Entry<String, long[]>> list = new ArrayList<>(entries.entrySet());
    list.sort(Comparator.comparingLong(e -> e.getValue()[0]));
    List<String> keys = new ArrayList<>(list.size());
    list.forEach(e -> keys.add(e.getKey()));
    return keys;
  }
}
