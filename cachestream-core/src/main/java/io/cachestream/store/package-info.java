/**
 * The cache directory on disk: lock, entries (sparse data file plus {@code meta.json}), committed ranges.
 * Internal: not API, may change in any release (the on-disk format is versioned in {@code meta.json}).
 */
package io.cachestream.store;
