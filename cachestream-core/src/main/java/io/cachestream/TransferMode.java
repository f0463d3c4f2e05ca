package io.cachestream;

/** How cached bytes go from the data file to a client's socket, all without a copy through the Java heap. */
public enum TransferMode {
  /**
   * {@code sendfile(2)}, until a response proves to be a bulk transfer (64 MiB sent within its first second): from
   * then on it is written from mapped windows, whose per-byte kernel cost is lower for one fast flow. Players
   * reading at their bitrate never switch. The default.
   */
  AUTO,
  /** {@code sendfile(2)} of file regions only. */
  SENDFILE,
  /** {@code write(2)} from mapped 256 MiB windows of the file, each unmapped once its last write completes. */
  MMAP
}
