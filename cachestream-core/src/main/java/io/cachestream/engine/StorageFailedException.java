package io.cachestream.engine;

import java.io.IOException;

/**
 * The cache could not store a resource's bytes (a full disk, say): readers continue straight from the origin with
 * {@link Resource#openDirect}.
 */
public final class StorageFailedException extends IOException {
  StorageFailedException(IOException cause) {
    super("cache storage failed: " + cause.getMessage(), cause);
  }
}
