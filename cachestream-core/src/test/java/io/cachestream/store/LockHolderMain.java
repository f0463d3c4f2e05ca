package io.cachestream.store;

import java.nio.file.Path;

/**
 * Test helper run in a child JVM: opens the cache dir given as the argument, prints {@code LOCKED} (or
 * {@code FAILED <message>}), and holds the lock until its standard input closes.
 */
public final class LockHolderMain {
  private LockHolderMain() {}

  public static void main(String[] args) throws Exception {
    CacheStore store;
    try {
      store = CacheStore.open(Path.of(args[0]));
    } catch (CacheStore.CacheDirException e) {
      System.out.println("FAILED " + e.getMessage());
      System.out.flush();
      System.exit(3);
      return;
    }
    System.out.println("LOCKED");
    System.out.flush();
    while (System.in.read() >= 0) {
      // Hold the lock until the parent closes our stdin (or dies).
    }
    store.close();
  }
}
