package io.cachestream.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cache directory: {@code .lock} plus {@code entries/<2 hex>/<sha256(key)>/{data,meta.json}}.
 *
 * <p>Holding a {@code CacheStore} means holding the OS lock on the directory, so no other process writes under
 * it. File names derive from a hash of the key, never from URL text. Thread-safe.
 */
public final class CacheStore implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(CacheStore.class);
  static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final Path entriesDir;
  private final FileChannel lockChannel;
  private final FileLock lock;

  private CacheStore(Path dir, FileChannel lockChannel, FileLock lock) {
    this.dir = dir;
    this.entriesDir = dir.resolve("entries");
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  /**
   * Opens (creating if needed) the cache directory and takes its exclusive lock.
   *
   * @throws CacheDirException if the directory cannot be created or written, or another process holds it
   */
  public static CacheStore open(Path dir) {
    Path abs = dir.toAbsolutePath().normalize();
    try {
      Files.createDirectories(abs.resolve("entries"));
    } catch (IOException e) {
      throw new CacheDirException("cannot create cache dir " + abs + ": " + describe(e), e);
    }
    if (!Files.isWritable(abs)) {
      throw new CacheDirException("cache dir " + abs + " is not writable", null);
    }
    FileChannel channel;
    try {
      channel = FileChannel.open(abs.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new CacheDirException("cannot write cache dir " + abs + ": " + describe(e), e);
    }
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (IOException | OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      closeQuietly(channel);
      throw new CacheDirException("cache dir " + abs + " is in use by another CacheStream process", null);
    }
    return new CacheStore(abs, channel, lock);
  }

  private static String describe(IOException e) {
    return e instanceof java.nio.file.AccessDeniedException ? "permission denied"
        : e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null ? fse.getReason()
        : e.toString();
  }

  public Path dir() {
    return dir;
  }

  /** The entry directory of {@code key}: a hash, so URL text never reaches the file system. */
  public Path entryDir(String key) {
    String hash = sha256(key);
    return entriesDir.resolve(hash.substring(0, 2)).resolve(hash);
  }

  /**
   * Opens the entry of {@code key}; a meta that fails its checks is dropped (logged). The files of a new entry are
   * created by its first write.
   */
  public CacheEntry openEntry(String key) throws IOException {
    Path entryDir = entryDir(key);
    EntryMeta meta = readValidMeta(key, entryDir).orElse(null); // may delete a broken entry's directory
    return new CacheEntry(key, entryDir, meta);
  }

  /** The meta of {@code key} if it exists and passes its checks. */
  public Optional<EntryMeta> readMeta(String key) {
    return readValidMeta(key, entryDir(key));
  }

  /** Every readable meta under the cache dir; broken ones are dropped with a log line. */
  public List<EntryMeta> listMetas() {
    List<EntryMeta> metas = new ArrayList<>();
    try (DirectoryStream<Path> shards = Files.newDirectoryStream(entriesDir)) {
      for (Path shard : shards) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(shard)) {
          for (Path entry : entries) {
            readMetaFile(entry).ifPresent(metas::add);
          }
        } catch (IOException e) {
          log.warn("cannot list {}: {}", shard, e.toString());
        }
      }
    } catch (IOException e) {
      log.warn("cannot list {}: {}", entriesDir, e.toString());
    }
    return metas;
  }

  /** Deletes the files of {@code key}'s entry; a no-op if there are none. */
  public void delete(String key) throws IOException {
    deleteEntryDir(entryDir(key));
  }

  private Optional<EntryMeta> readValidMeta(String key, Path entryDir) {
    return readMetaFile(entryDir).filter(meta -> {
      if (key.equals(meta.key())) {
        return true;
      }
      log.warn("dropping cache entry {}: meta belongs to another key", entryDir);
      deleteQuietly(entryDir);
      return false;
    });
  }

  private Optional<EntryMeta> readMetaFile(Path entryDir) {
    Path metaPath = entryDir.resolve(CacheEntry.META);
    if (!metaPath.toFile().exists()) {
      return Optional.empty(); // a plain stat: a new entry, the cold path, throws and fills in no exception
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(metaPath);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      log.warn("dropping cache entry {}: cannot read meta.json: {}", entryDir, e.toString());
      deleteQuietly(entryDir);
      return Optional.empty();
    }
    try {
      EntryMeta meta = JSON.readValue(bytes, EntryMeta.class);
      Path data = entryDir.resolve(CacheEntry.DATA);
      meta.check(meta.key() == null ? "" : meta.key(), Files.exists(data) ? Files.size(data) : 0);
      if (!entryDir.equals(entryDir(meta.key()))) {
        throw new IllegalStateException("meta stored under the wrong directory");
      }
      return Optional.of(meta);
    } catch (IOException | RuntimeException e) {
      log.warn("dropping cache entry {}: unreadable meta.json ({})", entryDir, oneLine(e));
      deleteQuietly(entryDir);
      return Optional.empty();
    }
  }

  private static String oneLine(Exception e) {
    String message = String.valueOf(e.getMessage());
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }

  private static void deleteQuietly(Path entryDir) {
    try {
      deleteEntryDir(entryDir);
    } catch (IOException e) {
      log.warn("cannot delete {}: {}", entryDir, e.toString());
    }
  }

  static void deleteEntryDir(Path entryDir) throws IOException {
    // Meta first: an entry whose data survives without meta is ignored, the other way round would be served.
    Files.deleteIfExists(entryDir.resolve(CacheEntry.META));
    Files.deleteIfExists(entryDir.resolve(CacheEntry.DATA));
    if (Files.isDirectory(entryDir)) {
      // Temp files a crash left behind mid-replacement of meta.json.
      try (DirectoryStream<Path> temps = Files.newDirectoryStream(entryDir, CacheEntry.META + ".tmp-*")) {
        for (Path temp : temps) {
          Files.deleteIfExists(temp);
        }
      }
    }
    try {
      Files.deleteIfExists(entryDir);
    } catch (java.nio.file.DirectoryNotEmptyException ignored) {
      // Someone else's file: leave the directory.
    }
  }

  static String sha256(String key) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(md.digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    try {
      lock.release();
    } catch (IOException ignored) {
      // Closing the channel releases it anyway.
    }
    closeQuietly(lockChannel);
  }

  private static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // Nothing useful to do while closing.
    }
  }

  /** The cache directory cannot be used; the message is fit for a user. */
  public static final class CacheDirException extends RuntimeException {
    CacheDirException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
