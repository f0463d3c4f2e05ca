package io.cachestream.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MappedWindowsTest {
  private static final long WINDOW = MappedWindows.WINDOW;

  @TempDir
  Path dir;
  private FileChannel file;
  private MappedWindows windows;

  @BeforeEach
  void open() throws IOException {
    file = FileChannel.open(dir.resolve("data"), StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE, StandardOpenOption.SPARSE);
    windows = new MappedWindows(file);
  }

  @AfterEach
  void close() throws IOException {
    windows.close();
    file.close();
  }

  @Test
  void aSpanHoldsTheFilesBytesAtItsPosition() throws IOException {
    byte[] bytes = random(4096, 1);
    file.write(ByteBuffer.wrap(bytes), 1000);

    MappedSpan span = windows.span(1500, 100);

    assertThat(span.buffer().remaining()).isEqualTo(100);
    assertThat(copy(span.buffer())).isEqualTo(java.util.Arrays.copyOfRange(bytes, 500, 600));
    span.release();
  }

  @Test
  void aSpanEndsAtTheEndOfItsWindowAndTheNextStartsTheNextWindow() throws IOException {
    byte[] tail = random(100, 2);
    byte[] head = random(100, 3);
    file.write(ByteBuffer.wrap(tail), WINDOW - 100);
    file.write(ByteBuffer.wrap(head), WINDOW); // the file is sparse below: only these two pieces take blocks

    MappedSpan first = windows.span(WINDOW - 100, 4 << 20);
    MappedSpan second = windows.span(WINDOW, 4 << 20);

    assertThat(copy(first.buffer())).isEqualTo(tail);
    assertThat(copy(second.buffer())).isEqualTo(head);
    assertThat(windows.mapped()).isEqualTo(2);
    first.release();
    second.release();
  }

  @Test
  void responsesShareOneWindowAndItStaysMappedForTheNextUntilUnmapAll() throws IOException {
    file.write(ByteBuffer.wrap(random(8192, 4)), 0);

    MappedSpan a = windows.span(0, 4096);
    MappedSpan b = windows.span(4096, 4096);
    a.release();
    b.release();

    assertThat(windows.mapped()).isEqualTo(1); // kept: a hot file is sent again without faulting its pages in
    windows.unmapAll();
    assertThat(windows.mapped()).isZero();
  }

  @Test
  void aSpanStillBeingSentOutlivesUnmapAllAndTheWindowGoesWithItsLastSpan() throws IOException {
    byte[] bytes = random(8192, 5);
    file.write(ByteBuffer.wrap(bytes), 0);
    MappedSpan inFlight = windows.span(0, 8192);

    windows.unmapAll();

    assertThat(copy(inFlight.buffer())).isEqualTo(bytes); // still mapped: its send is not done
    inFlight.release();
    inFlight.release(); // idempotent: a second release must not unmap a window twice
  }

  @Test
  void aFileThatGrewIsMappedAgainToReachItsNewBytes() throws IOException {
    file.write(ByteBuffer.wrap(random(4096, 6)), 0);
    MappedSpan early = windows.span(0, 1 << 20);
    assertThat(early.buffer().remaining()).isEqualTo(4096); // no further than the file held
    byte[] more = random(4096, 7);
    file.write(ByteBuffer.wrap(more), 4096);

    MappedSpan later = windows.span(4096, 1 << 20);

    assertThat(copy(later.buffer())).isEqualTo(more);
    assertThat(copy(early.buffer())).hasSize(4096); // the old, shorter window lives on for its span
    early.release();
    later.release();
  }

  @Test
  void nothingIsMappedAtOrPastTheEndOfTheFile() throws IOException {
    file.write(ByteBuffer.wrap(random(10, 8)), 0);

    assertThat(windows.span(10, 100)).isNull();
    assertThat(windows.span(WINDOW + 5, 100)).isNull();
  }

  @Test
  void aClosedEntryMapsNothingMore() throws IOException {
    file.write(ByteBuffer.wrap(random(10, 9)), 0);
    windows.close();

    assertThatThrownBy(() -> windows.span(0, 10)).isInstanceOf(ClosedChannelException.class);
  }

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] copy(ByteBuffer buffer) {
    byte[] b = new byte[buffer.remaining()];
    buffer.duplicate().get(b);
    return b;
  }
}
