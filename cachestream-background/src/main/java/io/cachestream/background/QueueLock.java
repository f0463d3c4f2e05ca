package io.cachestream.background;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The OS lock on {@code requests/.lock} that makes one process the queue runner. The kernel drops it when the process
 * dies, however it dies, so a SIGKILLed daemon never blocks its successor.
 */
final class QueueLock implements AutoCloseable {
  private final FileChannel channel;
  private final FileLock lock;

  private QueueLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /** Takes the lock if free; null if another process (or another client in this JVM) holds it. */
  static QueueLock tryAcquire(Path file) throws IOException {
    FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      FileLock lock = channel.tryLock();
      if (lock != null) return new QueueLock(channel, lock);
    } catch (OverlappingFileLockException e) {
      // Held by another client in this JVM: same answer as another process holding it.
    }
    channel.close();
    return null;
  }

  /** Whether some process holds the lock right now (probes by taking and releasing it). */
  static boolean isHeld(Path file) throws IOException {
    QueueLock probe = tryAcquire(file);
    if (probe == null) return true;
    probe.close();
    return false;
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      channel.close();
    }
  }
}
