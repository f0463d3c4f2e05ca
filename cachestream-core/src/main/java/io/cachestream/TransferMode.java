package io.cachestream;

/** How cached bytes go from the data file to a client's socket, both without a copy through the Java heap. */
public enum TransferMode {
  /** {@code sendfile(2)} of file regions: no mapping churn; the default. */
  SENDFILE,
  /** {@code write(2)} from a memory-mapped window of the file (mapped per write of up to 4 MiB, unmapped after). */
  MMAP
}
