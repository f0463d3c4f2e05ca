package io.cachestream.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Write-to-temp, fsync, rename: how the cache's {@code meta.json} files and the background client's request files
 * change, so a crash at any point leaves either the old or the new version of a file, never a torn one. With fsync off only the rename part remains, which is still
 * enough for process crashes (the kernel keeps the page cache) but not for power loss.
 */
public final class DurableFiles {
  private final boolean fsync;

  /** With {@code fsync} false, files stay whole across process crashes but not across power loss. */
  public DurableFiles(boolean fsync) {
    this.fsync = fsync;
  }

  /** Replaces {@code target} with {@code data} atomically; durable once this returns (with fsync on). */
  public void write(Path target, byte[] data) throws IOException {
    Path tmp = tempSibling(target);
    try {
      writeNew(tmp, data);
      rename(tmp, target);
    } finally {
      Files.deleteIfExists(tmp);
    }
    syncDir(target.getParent());
  }

  /** Creates {@code file} (which must not exist) holding {@code data}, fsynced; the directory entry is not synced. */
  public void writeNew(Path file, byte[] data) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(data);
      while (buf.hasRemaining()) ch.write(buf);
      if (fsync) ch.force(true);
    }
  }

  /** Copies {@code source} to the new file {@code target}, fsynced; streams, so any size is fine. */
  public void copyNew(Path source, Path target) throws IOException {
    Files.copy(source, target);
    syncFile(target);
  }

  public void syncFile(Path file) throws IOException {
    if (!fsync) return;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
  }

  /** Makes renames and creations inside {@code dir} durable. */
  public void syncDir(Path dir) throws IOException {
    if (!fsync) return;
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Some platforms (Windows) cannot open directories; their renames are journaled anyway.
      if (Files.isDirectory(dir)) return;
      throw e;
    }
  }

  /** Atomic rename, replacing {@code target} if it is a file. */
  public static void rename(Path source, Path target) throws IOException {
    try {
      Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("file system cannot rename atomically: " + target, e);
    }
  }

  /**
   * A fresh name beside {@code target}: 64 random bits, and the file is created exclusively, so a clash fails rather
   * than overwrites. Not {@code UUID.randomUUID}, whose shared {@code SecureRandom} showed in profiles: every cache
   * meta write names one.
   */
  private static Path tempSibling(Path target) {
    return target.resolveSibling(
        target.getFileName() + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
  }

  /** Deletes {@code path} and everything below it; missing files are fine (another process may be deleting too). */
  public static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path)) return;
    Files.walkFileTree(
        path,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
            if (e instanceof NoSuchFileException) return FileVisitResult.CONTINUE;
            throw e;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
            if (e != null && !(e instanceof NoSuchFileException)) throw e;
            Files.deleteIfExists(dir);
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
