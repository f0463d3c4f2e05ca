package io.cachestream.background;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's background thread: reacts to request directories appearing in {@code requests/} (written by other
 * processes, such as the CLI) and runs {@code tick} every {@code interval} as a fallback for missed events, for lock
 * takeover and for cross-process completion polling. Polls faster while {@code fastPolling} says someone is waiting.
 */
final class DirWatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DirWatcher.class);
  private static final Duration FAST = Duration.ofMillis(200);

  private final WatchService watchService;
  private final Thread thread;
  private volatile boolean stopped;

  /**
   * @param onEntry called with (name, created) for each entry created in or deleted from {@code dir}
   * @param tick the periodic task
   */
  DirWatcher(Path dir, Duration interval, BiConsumer<String, Boolean> onEntry, Runnable tick, BooleanSupplier fastPolling)
      throws IOException {
    WatchService ws = null;
    try {
      ws = FileSystems.getDefault().newWatchService();
      dir.register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_DELETE);
    } catch (IOException | UnsupportedOperationException e) {
      log.info("no file-system events for {}; relying on rescans every {}", dir, interval, e);
      if (ws != null) ws.close();
      ws = null;
    }
    this.watchService = ws;
    this.thread =
        new Thread(() -> loop(interval, onEntry, tick, fastPolling), "cachestream-background-watch");
    thread.setDaemon(true);
    thread.start();
  }

  private void loop(Duration interval, BiConsumer<String, Boolean> onEntry, Runnable tick, BooleanSupplier fast) {
    long lastTick = System.nanoTime();
    while (!stopped) {
      try {
        long waitNanos = (fast.getAsBoolean() && FAST.compareTo(interval) < 0 ? FAST : interval).toNanos();
        WatchKey key = poll(waitNanos);
        boolean overflow = false;
        if (key != null) {
          for (WatchEvent<?> event : key.pollEvents()) {
            if (event.kind() == StandardWatchEventKinds.OVERFLOW) {
              overflow = true;
            } else {
              String name = event.context().toString();
              if (RequestSpec.isValidId(name)) onEntry.accept(name, event.kind() == StandardWatchEventKinds.ENTRY_CREATE);
            }
          }
          key.reset();
        }
        if (overflow || System.nanoTime() - lastTick >= waitNanos) {
          lastTick = System.nanoTime();
          tick.run();
        }
      } catch (InterruptedException | ClosedWatchServiceException e) {
        return;
      } catch (RuntimeException e) {
        log.warn("background watcher task failed", e);
      }
    }
  }

  private WatchKey poll(long nanos) throws InterruptedException {
    if (watchService != null) return watchService.poll(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    java.util.concurrent.TimeUnit.NANOSECONDS.sleep(nanos);
    return null;
  }

  @Override
  public void close() throws IOException {
    stopped = true;
    thread.interrupt();
    if (watchService != null) watchService.close();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
