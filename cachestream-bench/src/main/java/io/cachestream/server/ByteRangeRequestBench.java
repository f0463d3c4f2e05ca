package io.cachestream.server;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Parsing and resolving a client's {@code Range} header, once per request on the server's hot path. Lives in
 * {@code io.cachestream.server} because {@link ByteRangeRequest} is package-private.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class ByteRangeRequestBench {
  @Param({"bytes=0-", "bytes=900000000-900999999", "bytes=-500", "bytes=0-1,5-9", "none"})
  public String header;

  private String value;

  @org.openjdk.jmh.annotations.Setup
  public void setup() {
    value = header.equals("none") ? null : header;
  }

  @Benchmark
  public ByteRangeRequest parse() {
    return ByteRangeRequest.parse(value);
  }

  @Benchmark
  public long[] parseAndResolve() {
    return ByteRangeRequest.parse(value).resolve(1L << 30);
  }
}
