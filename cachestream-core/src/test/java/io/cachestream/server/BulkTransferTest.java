package io.cachestream.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** When a response under {@code TransferMode.AUTO} leaves {@code sendfile} for mapped windows. */
class BulkTransferTest {
  private static final long MIB = 1 << 20;

  @Test
  void aClientTaking64MiBWithinASecondIsABulkTransfer() {
    assertThat(ResourceExchange.isBulk(64 * MIB, TimeUnit.MILLISECONDS.toNanos(300))).isTrue();
    assertThat(ResourceExchange.isBulk(64 * MIB, TimeUnit.SECONDS.toNanos(1))).isTrue();
  }

  @Test
  void aPlayerReadingAtItsBitrateNeverIs() {
    assertThat(ResourceExchange.isBulk(64 * MIB, TimeUnit.SECONDS.toNanos(20))).isFalse(); // ~27 Mbit/s
    assertThat(ResourceExchange.isBulk(64 * MIB, TimeUnit.MILLISECONDS.toNanos(1001))).isFalse();
  }

  @Test
  void fewerThan64MiBDecideNothing() {
    assertThat(ResourceExchange.isBulk(64 * MIB - 1, 0)).isFalse();
  }
}
