/**
 * CacheStream's public API: {@link io.cachestream.CacheStreamManager} (start from a {@link io.cachestream.CacheConfig}),
 * {@link io.cachestream.CacheStream} for one resource, {@link io.cachestream.CacheMetadata} and
 * {@link io.cachestream.CacheState} snapshots. Every type is thread-safe unless its Javadoc says otherwise.
 */
package io.cachestream;
