package io.cachestream.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** {@link RangeSet} against a {@link BitSet} model over offsets below 2000, plus 64-bit examples. */
class RangeSetTest {
  private static final int DOMAIN = 2000;
  private static final long GIB = 1L << 30;

  // ---------------------------------------------------------------- model-based property

  @Property(tries = 400)
  void everyQueryAgreesWithBitSetModelAfterAnySequenceOfAdds(
      @ForAll("addLists") List<int[]> adds, @ForAll("queryPairLists") List<int[]> pairs) {
    RangeSet set = new RangeSet();
    BitSet model = new BitSet();
    for (int[] add : adds) {
      set.add(add[0], add[1]);
      model.set(add[0], add[1]);
      // Cheap structural checks after every step, so an intermediate broken state is caught where it happens.
      assertThat(ranges(set)).as("toList after add %s", add[0] + "-" + add[1]).isEqualTo(modelRanges(model));
      assertThat(set.totalBytes()).as("totalBytes").isEqualTo(model.cardinality());
      assertThat(set.maxEnd()).as("maxEnd").isEqualTo(model.length());
      assertThat(set.isEmpty()).as("isEmpty").isEqualTo(model.isEmpty());
    }
    assertDisjointSortedNonAdjacent(set.toList());
    for (int p = 0; p <= DOMAIN + 5; p++) {
      assertThat(set.contains(p)).as("contains(%d) in %s", p, set).isEqualTo(model.get(p));
      assertThat(set.contiguousEnd(p)).as("contiguousEnd(%d) in %s", p, set).isEqualTo(modelContiguousEnd(model, p));
      assertThat(set.nextStartAfter(p)).as("nextStartAfter(%d) in %s", p, set)
          .isEqualTo(modelNextStartAfter(model, p));
    }
    for (int[] q : pairs) {
      int from = q[0];
      int limit = q[1];
      long expectedGap = model.nextClearBit(from) < limit ? model.nextClearBit(from) : -1;
      assertThat(set.firstGap(from, limit)).as("firstGap(%d, %d) in %s", from, limit, set).isEqualTo(expectedGap);
      boolean expectedCovers = from >= limit || model.nextClearBit(from) >= limit;
      assertThat(set.covers(from, limit)).as("covers(%d, %d) in %s", from, limit, set).isEqualTo(expectedCovers);
    }
    assertThat(RangeSet.of(set.toList())).as("of(toList()) rebuilds an equal set").isEqualTo(set);
    assertThat(set.copy()).isEqualTo(set).hasSameHashCodeAs(set);
  }

  @Property(tries = 200)
  void addOrderDoesNotMatter(@ForAll("addLists") List<int[]> adds) {
    RangeSet forward = new RangeSet();
    RangeSet backward = new RangeSet();
    for (int i = 0; i < adds.size(); i++) {
      forward.add(adds.get(i)[0], adds.get(i)[1]);
      int[] b = adds.get(adds.size() - 1 - i);
      backward.add(b[0], b[1]);
    }
    assertThat(ranges(forward)).isEqualTo(ranges(backward));
    assertThat(forward).isEqualTo(backward);
  }

  @Property(tries = 200)
  void badArgumentsAreRejectedAndLeaveTheSetUnchanged(
      @ForAll @IntRange(min = -5000, max = 5000) int start, @ForAll @IntRange(min = -5000, max = 5000) int end) {
    RangeSet set = RangeSet.of(List.of(new long[] {10, 20}));
    if (start < 0 || end < start) {
      assertThatThrownBy(() -> set.add(start, end)).isInstanceOf(IllegalArgumentException.class);
      assertThat(ranges(set)).containsExactly(List.of(10L, 20L));
    } else {
      set.add(start, end);
      assertThat(set.totalBytes()).isGreaterThanOrEqualTo(10);
    }
  }

  @Provide
  Arbitrary<List<int[]>> addLists() {
    return adds().list().ofMaxSize(40);
  }

  @Provide
  Arbitrary<List<int[]>> queryPairLists() {
    return queryPairs().list().ofMaxSize(60);
  }

  private static Arbitrary<int[]> adds() {
    // Half of the adds land in a small window so that overlaps, adjacency and containment happen often.
    Arbitrary<Integer> start = Arbitraries.oneOf(
        Arbitraries.integers().between(0, 60), Arbitraries.integers().between(0, DOMAIN));
    Arbitrary<Integer> length = Arbitraries.oneOf(
        Arbitraries.integers().between(0, 8), Arbitraries.integers().between(0, 400));
    return Combinators.combine(start, length).as((s, n) -> new int[] {s, Math.min(DOMAIN, s + n)});
  }

  private static Arbitrary<int[]> queryPairs() {
    Arbitrary<Integer> offset = Arbitraries.integers().between(0, DOMAIN + 10);
    return Combinators.combine(offset, offset).as((a, b) -> new int[] {a, b});
  }

  // ---------------------------------------------------------------- examples

  @Test
  void addMergesAdjacentRanges() {
    RangeSet set = new RangeSet();
    set.add(0, 10);
    set.add(10, 20);
    assertThat(ranges(set)).containsExactly(List.of(0L, 20L));
    assertThat(set.totalBytes()).isEqualTo(20);
  }

  @Test
  void addBridgingSeveralRangesMergesThemAll() {
    RangeSet set = RangeSet.of(List.of(new long[] {0, 5}, new long[] {10, 15}, new long[] {20, 25}, new long[] {40, 50}));
    set.add(3, 22);
    assertThat(ranges(set)).containsExactly(List.of(0L, 25L), List.of(40L, 50L));
    assertThat(set.totalBytes()).isEqualTo(35);
  }

  @Test
  void emptyAddIsANoOp() {
    RangeSet set = new RangeSet();
    set.add(7, 7);
    assertThat(set.isEmpty()).isTrue();
    assertThat(set.maxEnd()).isZero();
    assertThat(set.nextStartAfter(0)).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void addHandlesOffsetsBeyondFourGibibytes() {
    RangeSet set = new RangeSet();
    set.add(5 * GIB, 6 * GIB);
    set.add(4 * GIB - 10, 4 * GIB + 10);
    set.add(4 * GIB + 10, 5 * GIB); // adjacent on both sides: everything merges
    assertThat(ranges(set)).containsExactly(List.of(4 * GIB - 10, 6 * GIB));
    assertThat(set.totalBytes()).isEqualTo(2 * GIB + 10);
    assertThat(set.maxEnd()).isEqualTo(6 * GIB);
  }

  @Test
  void queriesWorkPastThe32BitBoundary() {
    long fourG = 1L << 32;
    RangeSet set = RangeSet.of(List.of(new long[] {0, 100}, new long[] {fourG, fourG + 100}, new long[] {3 * fourG, 3 * fourG + 1}));
    assertThat(set.contains(fourG + 99)).isTrue();
    assertThat(set.contains(fourG + 100)).isFalse();
    assertThat(set.contains(fourG - 1)).isFalse();
    assertThat(set.contiguousEnd(fourG + 5)).isEqualTo(fourG + 100);
    assertThat(set.contiguousEnd(fourG - 1)).isEqualTo(fourG - 1);
    assertThat(set.nextStartAfter(100)).isEqualTo(fourG);
    assertThat(set.nextStartAfter(fourG)).isEqualTo(3 * fourG);
    assertThat(set.nextStartAfter(3 * fourG)).isEqualTo(Long.MAX_VALUE);
    assertThat(set.firstGap(fourG, fourG + 100)).isEqualTo(-1);
    assertThat(set.firstGap(fourG, fourG + 101)).isEqualTo(fourG + 100);
    assertThat(set.firstGap(50, fourG)).isEqualTo(100);
    assertThat(set.covers(fourG + 1, fourG + 100)).isTrue();
    assertThat(set.covers(0, fourG + 1)).isFalse();
    assertThat(set.totalBytes()).isEqualTo(201);
    assertThat(set.maxEnd()).isEqualTo(3 * fourG + 1);
  }

  @Test
  void totalBytesDoesNotOverflowNearLongMax() {
    RangeSet set = new RangeSet();
    set.add(0, Long.MAX_VALUE - 1);
    set.add(Long.MAX_VALUE - 1, Long.MAX_VALUE);
    assertThat(set.totalBytes()).isEqualTo(Long.MAX_VALUE);
    assertThat(set.covers(0, Long.MAX_VALUE)).isTrue();
    assertThat(set.contiguousEnd(123)).isEqualTo(Long.MAX_VALUE);
    assertThat(ranges(set)).containsExactly(List.of(0L, Long.MAX_VALUE));
  }

  @Test
  void copyIsIndependentOfTheOriginal() {
    RangeSet set = RangeSet.of(List.of(new long[] {0, 10}));
    RangeSet copy = set.copy();
    copy.add(20, 30);
    assertThat(set.totalBytes()).isEqualTo(10);
    assertThat(copy.totalBytes()).isEqualTo(20);
    assertThat(copy).isNotEqualTo(set);
  }

  @Test
  void clearEmptiesTheSet() {
    RangeSet set = RangeSet.of(List.of(new long[] {3, 9}));
    set.clear();
    assertThat(set.isEmpty()).isTrue();
    assertThat(set.totalBytes()).isZero();
    assertThat(set.toList()).isEmpty();
    assertThat(set).isEqualTo(new RangeSet());
  }

  @Test
  void toStringListsHalfOpenRanges() {
    assertThat(RangeSet.of(List.of(new long[] {0, 5}, new long[] {8, 9})).toString()).isEqualTo("[[0, 5), [8, 9)]");
  }

  // ---------------------------------------------------------------- helpers

  private static List<List<Long>> ranges(RangeSet set) {
    List<List<Long>> out = new ArrayList<>();
    for (long[] r : set.toList()) {
      out.add(List.of(r[0], r[1]));
    }
    return out;
  }

  private static List<List<Long>> modelRanges(BitSet model) {
    List<List<Long>> out = new ArrayList<>();
    int s = model.nextSetBit(0);
    while (s >= 0) {
      int e = model.nextClearBit(s);
      out.add(List.of((long) s, (long) e));
      s = model.nextSetBit(e);
    }
    return out;
  }

  private static void assertDisjointSortedNonAdjacent(List<long[]> list) {
    long previousEnd = -1;
    for (long[] r : list) {
      assertThat(r).hasSize(2);
      assertThat(r[0]).as("non-empty").isLessThan(r[1]);
      assertThat(r[0]).as("sorted, disjoint and non-adjacent").isGreaterThan(previousEnd);
      previousEnd = r[1];
    }
  }

  private static long modelContiguousEnd(BitSet model, int p) {
    return model.get(p) ? model.nextClearBit(p) : p;
  }

  private static long modelNextStartAfter(BitSet model, int p) {
    int s = model.nextSetBit(p + 1);
    while (s >= 0 && model.get(s - 1)) {
      s = model.nextSetBit(model.nextClearBit(s));
    }
    return s < 0 ? Long.MAX_VALUE : s;
  }
}
