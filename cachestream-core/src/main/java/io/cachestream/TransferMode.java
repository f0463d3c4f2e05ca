package io.cachestream;

/** How cached bytes go from the data file to a client's socket, both without a copy through the Java heap. */
public enum TransferMode {
  /**
   * The default: {@link #MMAP} for bodies of at least 16 MiB of a resource whose bytes are all cached (one long hot
   * stream), {@link #SENDFILE} for the rest (short bodies, many at once, and bytes still arriving).
   */
  AUTO,
  /** {@code sendfile(2)} of file regions: nothing copied on the server's side. */
  SENDFILE,
  /**
   * {@code write(2)} from read-only mappings of the data file, in 64 MiB windows shared by every response and kept
   * until the resource goes idle, so a hot file is sent without faulting its pages in again.
   */
  MMAP
}
