package io.cachestream.background;

import java.io.IOException;
import java.util.function.LongConsumer;
import okhttp3.MediaType;
import okhttp3.RequestBody;
import okio.Buffer;
import okio.BufferedSink;
import okio.ForwardingSink;
import okio.Okio;

/** Reports bytes as the wrapped body is written; the body itself still streams from its file. */
final class ProgressRequestBody extends RequestBody {
  private final RequestBody delegate;
  private final LongConsumer onBytes;

  ProgressRequestBody(RequestBody delegate, LongConsumer onBytes) {
    this.delegate = delegate;
    this.onBytes = onBytes;
  }

  @Override
  public MediaType contentType() {
    return delegate.contentType();
  }

  @Override
  public long contentLength() throws IOException {
    return delegate.contentLength();
  }

  @Override
  public void writeTo(BufferedSink sink) throws IOException {
    BufferedSink counting =
        Okio.buffer(
            new ForwardingSink(sink) {
              private long written;

              @Override
              public void write(Buffer source, long byteCount) throws IOException {
                super.write(source, byteCount);
                written += byteCount;
                onBytes.accept(written);
              }
            });
    delegate.writeTo(counting);
    counting.emit(); // flushes our buffer into sink without closing the caller's stream
  }
}
