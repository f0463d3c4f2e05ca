package io.cachestream.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link ByteRangeRequest}: how a client's {@code Range} header resolves against a length (nginx semantics). */
class ByteRangeRequestTest {
  private static final long LENGTH = 100_000;

  /** Expected: {@code first-last}, {@code 416} for unsatisfiable, {@code WHOLE} for "send the whole body (200)". */
  @ParameterizedTest(name = "[{index}] {0} -> {1}")
  @CsvSource(delimiter = '|', nullValues = "NULL", value = {
      "bytes=0-                       | 0-99999",
      "bytes=0-99                     | 0-99",
      "bytes=-100                     | 99900-99999",
      "bytes=99990-                   | 99990-99999",
      "bytes=99990-200000             | 99990-99999",
      "bytes=-200000                  | 0-99999",
      "bytes=99999-99999              | 99999-99999",
      "bytes=-1                       | 99999-99999",
      "bytes=-100000                  | 0-99999",
      "bytes=0-0                      | 0-0",
      "Bytes=0-99                     | 0-99",
      "bytes=abc                      | 416",
      "bytes=5-2                      | 416",
      "bytes=99999999999999999999-    | 416",
      "bytes=100000-                  | 416",
      "bytes=100000-100005            | 416",
      "bytes=-0                       | 416",
      "bytes=a-5                      | 416",
      "bytes=5-b                      | 416",
      "bytes=-                        | 416",
      "bytes=+5-                      | 416",
      "'bytes=0-1,5-6'                | WHOLE",
      "items=0-5                      | WHOLE",
      "NULL                           | WHOLE",
  })
  void headerResolvesToSpanForA100000ByteResource(String header, String expected) {
    assertThat(describe(ByteRangeRequest.parse(header).resolve(LENGTH))).isEqualTo(expected);
  }

  @Test
  void aThousandRangesGetTheWholeBody() {
    StringBuilder h = new StringBuilder("bytes=");
    for (int i = 0; i < 1000; i++) {
      h.append(i > 0 ? "," : "").append(i * 10).append('-').append(i * 10 + 4);
    }
    ByteRangeRequest r = ByteRangeRequest.parse(h.toString());
    assertThat(r.isSingle()).isFalse();
    assertThat(r.resolve(LENGTH)).isNull();
  }

  @Test
  void anOversizedSingleRangeHeaderIsNotLookedAt() {
    String h = "bytes=" + "0".repeat(5000) + "1-";
    assertThat(ByteRangeRequest.parse(h).resolve(LENGTH)).isNull();
  }

  @Test
  void startHintIsTheFirstByteOrZeroForSuffixAndNonSingleRanges() {
    assertThat(ByteRangeRequest.parse("bytes=500-").startHint()).isEqualTo(500);
    assertThat(ByteRangeRequest.parse("bytes=500-600").startHint()).isEqualTo(500);
    assertThat(ByteRangeRequest.parse("bytes=-500").startHint()).isZero();
    assertThat(ByteRangeRequest.parse("bytes=1-2,3-4").startHint()).isZero();
    assertThat(ByteRangeRequest.parse(null).startHint()).isZero();
  }

  @Test
  void onlyWellFormedSingleRangesAreSingle() {
    assertThat(ByteRangeRequest.parse("bytes=0-").isSingle()).isTrue();
    assertThat(ByteRangeRequest.parse("bytes=-5").isSingle()).isTrue();
    assertThat(ByteRangeRequest.parse("bytes=5-2").isSingle()).isFalse();
    assertThat(ByteRangeRequest.parse("items=0-5").isSingle()).isFalse();
    assertThat(ByteRangeRequest.parse(null).isSingle()).isFalse();
  }

  @Test
  void anyRangeOfAnEmptyResourceIsUnsatisfiable() {
    assertThat(ByteRangeRequest.parse("bytes=0-").resolve(0)).isSameAs(ByteRangeRequest.UNSATISFIABLE);
    assertThat(ByteRangeRequest.parse("bytes=-5").resolve(0)).isSameAs(ByteRangeRequest.UNSATISFIABLE);
  }

  @Test
  void spansBeyondFourGibibytesResolve() {
    long len = 10L << 30;
    assertThat(ByteRangeRequest.parse("bytes=5368709120-").resolve(len)).containsExactly(5L << 30, len - 1);
    assertThat(ByteRangeRequest.parse("bytes=-4294967296").resolve(len)).containsExactly(len - (4L << 30), len - 1);
  }

  @Test
  void numbersJustBelowTheLongLimitAreExactNotSaturated() {
    long[] span = ByteRangeRequest.parse("bytes=9223372036854775800-").resolve(9223372036854775801L);
    assertThat(span).containsExactly(9223372036854775800L, 9223372036854775800L);
  }

  // ---------------------------------------------------------------- properties

  @Property(tries = 1000)
  void singleRangeResolvesWithinTheResourceOrIsUnsatisfiable(
      @ForAll("singleRanges") String header, @ForAll("lengths") long length) {
    long[] span = ByteRangeRequest.parse(header).resolve(length);
    assertThat(span).as("a single range never means 'whole body'").isNotNull();
    if (span != ByteRangeRequest.UNSATISFIABLE) {
      assertThat(span).hasSize(2);
      assertThat(span[0]).isBetween(0L, length - 1);
      assertThat(span[1]).isBetween(span[0], length - 1);
    }
  }

  /** The RFC 9110 meaning, computed with unbounded integers so that huge numbers are modelled exactly. */
  @Property(tries = 1000)
  void singleRangeResolvesToItsRfc9110Meaning(@ForAll("singleRanges") String header, @ForAll("lengths") long length) {
    String spec = header.substring("bytes=".length());
    int dash = spec.indexOf('-');
    String a = spec.substring(0, dash);
    String b = spec.substring(dash + 1);
    BigInteger len = BigInteger.valueOf(length);
    String expected;
    if (a.isEmpty()) {
      BigInteger suffix = new BigInteger(b);
      expected = suffix.signum() == 0 ? "416" : len.subtract(suffix).max(BigInteger.ZERO) + "-" + (length - 1);
    } else {
      BigInteger first = new BigInteger(a);
      BigInteger last = b.isEmpty() ? len.subtract(BigInteger.ONE) : new BigInteger(b).min(len.subtract(BigInteger.ONE));
      expected = first.compareTo(len) >= 0 ? "416" : first + "-" + last;
    }
    assertThat(describe(ByteRangeRequest.parse(header).resolve(length))).isEqualTo(expected);
  }

  @Provide
  Arbitrary<String> singleRanges() {
    Arbitrary<String> number = Arbitraries.oneOf(
        Arbitraries.longs().between(0, 200).map(String::valueOf),
        Arbitraries.longs().between(0, Long.MAX_VALUE).map(String::valueOf),
        Arbitraries.bigIntegers().between(BigInteger.ZERO, BigInteger.TEN.pow(30)).map(BigInteger::toString));
    Arbitrary<String> fromTo = net.jqwik.api.Combinators.combine(number, number).as((x, y) -> {
      BigInteger bx = new BigInteger(x);
      BigInteger by = new BigInteger(y);
      return "bytes=" + bx.min(by) + "-" + bx.max(by);
    });
    return Arbitraries.oneOf(fromTo, number.map(n -> "bytes=" + n + "-"), number.map(n -> "bytes=-" + n));
  }

  @Provide
  Arbitrary<Long> lengths() {
    return Arbitraries.oneOf(Arbitraries.longs().between(1, 300), Arbitraries.longs().between(1, Long.MAX_VALUE));
  }

  private static String describe(long[] span) {
    if (span == null) {
      return "WHOLE";
    }
    if (span == ByteRangeRequest.UNSATISFIABLE) {
      return "416";
    }
    return span[0] + "-" + span[1];
  }
}
