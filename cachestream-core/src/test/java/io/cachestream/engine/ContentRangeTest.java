package io.cachestream.engine;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link ContentRange}: the origin's {@code Content-Range} on a 206. */
class ContentRangeTest {

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', value = {
      "bytes 0-99/100                               | 0  | 99          | 100",
      "bytes 0-0/1                                  | 0  | 0           | 1",
      "bytes 500-999/*                              | 500 | 999        | -1",
      "'  bytes 5-9/10  '                           | 5  | 9           | 10",
      "bytes   5-9/10                               | 5  | 9           | 10",
      "bytes 4294967296-8589934591/8589934592       | 4294967296 | 8589934591 | 8589934592",
      "bytes 0-999999999999999998/999999999999999999 | 0 | 999999999999999998 | 999999999999999999",
  })
  void validHeaderParsesToFirstLastAndTotal(String header, long first, long last, long total) {
    assertThat(ContentRange.parse(header)).isEqualTo(new ContentRange(first, last, total));
  }

  @ParameterizedTest(name = "[{index}] ''{0}''")
  @NullAndEmptySource
  @ValueSource(strings = {
      "bytes 0-100/100",                 // last beyond total
      "bytes 0-99/99",                   // last == total
      "bytes 10-9/100",                  // last before first
      "bytes */100",                     // the unsatisfied-range form is not a range
      "bytes 0-99",                      // no total
      "bytes 0-99/",                     // empty total
      "bytes=0-99/100",                  // request syntax, not response syntax
      "bytes0-99/100",                   // no space
      "items 0-99/100",                  // other unit
      "bytes -5-99/100",                 // negative
      "bytes 0--99/100",
      "bytes 0-99/100, bytes 0-9/100",   // two headers folded
      "bytes 0-99/100x",
      "bytes 1.5-99/100",
      "bytes 0-1234567890123456789/*",   // 19 digits may overflow a long: refused
      "bytes 0-99/12345678901234567890",
  })
  void malformedOrInconsistentHeaderParsesToNull(String header) {
    assertThat(ContentRange.parse(header)).isNull();
  }

  @Property(tries = 500)
  void formattedRangeParsesBack(
      @ForAll @LongRange(min = 0, max = 999_999_999_999_999_998L) long first,
      @ForAll @LongRange(min = 0, max = 999_999_999_999_999_998L) long span,
      @ForAll boolean unknownTotal) {
    long last = first + Math.min(span, 999_999_999_999_999_998L - first);
    long total = unknownTotal ? -1 : last + 1;
    String header = "bytes " + first + "-" + last + "/" + (unknownTotal ? "*" : String.valueOf(total));
    assertThat(ContentRange.parse(header)).isEqualTo(new ContentRange(first, last, total));
  }
}
