package io.cachestream.store;

import io.cachestream.files.DurableFiles;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The two files of one cached resource: the sparse {@code data} file, whose bytes sit at their own offsets, and
 * {@code meta.json}.
 *
 * <p>Writers call {@link #write} (positional, thread-safe) and {@link #checkpoint} (forces data, then replaces
 * meta): a meta never claims a byte that is not durably in {@code data}. Readers take the shared
 * {@link #channel()} for positional reads and zero-copy transfers; closing the entry closes it.
 *
 * <p>A new entry touches the disk only when its first byte or meta is written: a cold request reaches the origin
 * without waiting for a directory and a file to be created, and an origin error leaves nothing behind.
 */
public final class CacheEntry implements Closeable {
  static final String DATA = "data";
  static final String META = "meta.json";
  private static final DurableFiles FILES = new DurableFiles(true);

  private final String key;
  private final Path dir;
  private final EntryMeta loadedMeta;
  /** Null until the files exist (a new entry before its first write). */
  private volatile FileChannel channel;
  /** Null until the first {@link #mapped} call. */
  private MappedWindows windows;
  private boolean closed;

  CacheEntry(String key, Path dir, EntryMeta loadedMeta) throws IOException {
    this.key = key;
    this.dir = dir;
    this.loadedMeta = loadedMeta;
    if (loadedMeta != null) {
      files();
    }
  }

  /** The data file, creating the directory and the file on first use. */
  private FileChannel files() throws IOException {
    FileChannel c = channel;
    if (c != null) {
      return c;
    }
    synchronized (this) {
      if (channel == null) {
        if (closed) {
          throw new ClosedChannelException();
        }
        Files.createDirectories(dir);
        channel = FileChannel.open(dir.resolve(DATA), StandardOpenOption.CREATE, StandardOpenOption.READ,
            StandardOpenOption.WRITE, StandardOpenOption.SPARSE);
      }
      return channel;
    }
  }

  public String key() {
    return key;
  }

  public Path dir() {
    return dir;
  }

  public Path dataPath() {
    return dir.resolve(DATA);
  }

  public Path metaPath() {
    return dir.resolve(META);
  }

  /** The meta found on disk when the entry was opened, or null for a new entry. */
  public EntryMeta loadedMeta() {
    return loadedMeta;
  }

  /**
   * The data file, shared: use positional operations only, never close it. Only for bytes known to be present
   * (written, or claimed by the loaded meta), so the file exists.
   *
   * @throws IllegalStateException if nothing was ever written to a new entry
   */
  public FileChannel channel() {
    FileChannel c = channel;
    if (c == null) {
      throw new IllegalStateException("no bytes were written to " + dir);
    }
    return c;
  }

  /**
   * At most {@code maxLength} cached bytes from {@code position}, in a mapping of the data file shared with every
   * other caller and kept until {@link #unmapAll} (or {@link #truncate}, {@link #close}); null when
   * {@code position} is past the end of the file. Only for bytes known to be present. Release the span once sent.
   */
  public MappedSpan mapped(long position, int maxLength) throws IOException {
    MappedWindows w;
    synchronized (this) {
      if (windows == null) {
        windows = new MappedWindows(channel());
      }
      w = windows;
    }
    return w.span(position, maxLength);
  }

  /**
   * Gives up the data file's mappings (a resource gone idle: its pages leave the process's resident set); spans
   * still being sent keep theirs until released.
   */
  public void unmapAll() {
    MappedWindows w;
    synchronized (this) {
      w = windows;
    }
    if (w != null) {
      w.unmapAll();
    }
  }

  /** Writes all of {@code src} at {@code position}. */
  public void write(ByteBuffer src, long position) throws IOException {
    FileChannel c = files();
    while (src.hasRemaining()) {
      position += c.write(src, position);
    }
  }

  /** Forces written data to disk, then atomically replaces meta.json with {@code meta}. */
  public void checkpoint(EntryMeta meta) throws IOException {
    files().force(false);
    writeMeta(meta);
  }

  /** Replaces meta.json without forcing data: only for metas that claim no more bytes than the last one. */
  public void writeMeta(EntryMeta meta) throws IOException {
    files();
    FILES.write(metaPath(), CacheStore.JSON.writeValueAsBytes(meta));
  }

  /** Drops every byte: meta first (so nothing is claimed), then the data; {@code emptyMeta} null removes meta. */
  public void truncate(EntryMeta emptyMeta) throws IOException {
    if (emptyMeta == null) {
      java.nio.file.Files.deleteIfExists(metaPath());
    } else {
      writeMeta(emptyMeta);
    }
    unmapAll(); // as with a file region still queued, the response's generation check ends a span's response
    FileChannel c = channel;
    if (c != null) {
      c.truncate(0);
    }
  }

  @Override
  public synchronized void close() throws IOException {
    closed = true;
    if (windows != null) {
      windows.close();
    }
    if (channel != null) {
      channel.close();
    }
  }
}
