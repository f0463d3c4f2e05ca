package io.cachestream.bench;

import io.cachestream.store.RangeSet;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The committed-range set: {@code add} as a download commits chunks (adjacent, so they merge), and the lookups a
 * reader does per served span ({@code contains}, {@code contiguousEnd}) on a set of {@code ranges} disjoint ranges.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class RangeSetBench {
  private static final long CHUNK = 64 * 1024;
  private static final int SEQUENTIAL_ADDS = 1024;

  @Param({"1", "100", "10000"})
  public int ranges;

  private RangeSet fragmented;
  private long[] probes;
  private int next;

  @Setup
  public void setup() {
    fragmented = new RangeSet();
    // Ranges of 1 MiB with 1 MiB gaps: half of the probes hit, half miss.
    for (int i = 0; i < ranges; i++) {
      fragmented.add(i * 2L << 20, (i * 2L + 1) << 20);
    }
    SplittableRandom random = new SplittableRandom(42);
    probes = new long[4096];
    for (int i = 0; i < probes.length; i++) {
      probes[i] = random.nextLong(Math.max(1, ranges) * 2L << 20);
    }
  }

  private long probe() {
    long p = probes[next];
    next = (next + 1) & (probes.length - 1);
    return p;
  }

  /** A download committing 1,024 adjacent 64 KiB chunks into a fresh set (each add merges with the previous). */
  @Benchmark
  @OperationsPerInvocation(SEQUENTIAL_ADDS)
  public RangeSet addSequentialChunks() {
    RangeSet set = new RangeSet();
    for (int i = 0; i < SEQUENTIAL_ADDS; i++) {
      set.add(i * CHUNK, (i + 1) * CHUNK);
    }
    return set;
  }

  /** Adds a chunk into the fragmented set, on a copy so the set keeps its shape (includes the copy). */
  @Benchmark
  public RangeSet addIntoFragmentedCopy() {
    RangeSet copy = fragmented.copy();
    long p = probe();
    copy.add(p, p + CHUNK);
    return copy;
  }

  @Benchmark
  public boolean contains() {
    return fragmented.contains(probe());
  }

  @Benchmark
  public long contiguousEnd() {
    return fragmented.contiguousEnd(probe());
  }
}
