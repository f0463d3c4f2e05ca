package io.cachestream.store;

import io.cachestream.files.DurableFiles;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The two files of one cached resource: the sparse {@code data} file, whose bytes sit at their own offsets, and
 * {@code meta.json}.
 *
 * <p>Writers call {@link #write} (positional, thread-safe) and {@link #checkpoint} (forces data, then replaces
 * meta): a meta never claims a byte that is not durably in {@code data}. Readers take the shared
 * {@link #channel()} for positional reads and zero-copy transfers; closing the entry closes it.
 */
public final class CacheEntry implements Closeable {
  static final String DATA = "data";
  static final String META = "meta.json";
  private static final DurableFiles FILES = new DurableFiles(true);

  private final String key;
  private final Path dir;
  private final EntryMeta loadedMeta;
  private final FileChannel channel;

  CacheEntry(String key, Path dir, EntryMeta loadedMeta) throws IOException {
    this.key = key;
    this.dir = dir;
    this.loadedMeta = loadedMeta;
    this.channel = FileChannel.open(dir.resolve(DATA), StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE, StandardOpenOption.SPARSE);
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

  /** The data file, shared: use positional operations only, never close it. */
  public FileChannel channel() {
    return channel;
  }

  /** Writes all of {@code src} at {@code position}. */
  public void write(ByteBuffer src, long position) throws IOException {
    while (src.hasRemaining()) {
      position += channel.write(src, position);
    }
  }

  /** Forces written data to disk, then atomically replaces meta.json with {@code meta}. */
  public void checkpoint(EntryMeta meta) throws IOException {
    channel.force(false);
    writeMeta(meta);
  }

  /** Replaces meta.json without forcing data: only for metas that claim no more bytes than the last one. */
  public void writeMeta(EntryMeta meta) throws IOException {
    FILES.write(metaPath(), CacheStore.JSON.writeValueAsBytes(meta));
  }

  /** Drops every byte: meta first (so nothing is claimed), then the data; {@code emptyMeta} null removes meta. */
  public void truncate(EntryMeta emptyMeta) throws IOException {
    if (emptyMeta == null) {
      java.nio.file.Files.deleteIfExists(metaPath());
    } else {
      writeMeta(emptyMeta);
    }
    channel.truncate(0);
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
