package io.cachestream.background;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Child-JVM half of {@link LargeTransferTest}: run with a small heap, uploads a generated file and downloads a large
 * body. Args: dir, upload URL, download URL, size in bytes.
 */
public final class LargeTransferMain {
  private LargeTransferMain() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    long size = Long.parseLong(args[3]);
    Path source = dir.resolve("upload.bin");
    writePattern(source, size);
    try (BackgroundHttpClient client = BackgroundHttpClient.open(dir.resolve("cache"))) {
      RequestInfo upload = client.post(args[1], RequestSpec.builder().bodyFile(source).build());
      RequestInfo download = client.get(args[2]);
      ResponseInfo up = client.completion(upload.id()).get(5, TimeUnit.MINUTES);
      ResponseInfo down = client.completion(download.id()).get(5, TimeUnit.MINUTES);
      System.out.println("upload " + up.statusCode() + " " + Files.readString(up.bodyFile()));
      System.out.println("download " + down.statusCode() + " " + down.bodyLength() + " " + down.bodyFile());
      System.out.println("maxHeap " + Runtime.getRuntime().maxMemory());
    }
  }

  /** Byte {@code i} of every generated body; cheap to check without holding the body. */
  static byte patternByte(long i) {
    return (byte) (i * 7 + (i >>> 13));
  }

  static void writePattern(Path file, long size) throws IOException {
    byte[] chunk = new byte[64 * 1024];
    try (OutputStream out = Files.newOutputStream(file)) {
      for (long written = 0; written < size; ) {
        int n = (int) Math.min(chunk.length, size - written);
        for (int j = 0; j < n; j++) chunk[j] = patternByte(written + j);
        out.write(chunk, 0, n);
        written += n;
      }
    }
  }
}
