package io.cachestream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JfrProfilesTest {
  @TempDir Path tmp;

  @Test
  void scenarioNamesBecomeFileNames() {
    assertThat(JfrProfiles.slug("S1 hot 1024 MiB stream")).isEqualTo("s1");
    assertThat(JfrProfiles.slug("warm-up: 6000 cold requests per server")).isEqualTo("warm-up");
    assertThat(JfrProfiles.slug("RSS with 1000 connections")).isEqualTo("rss");
  }

  @Test
  void summaryNamesTheBusyThreadGroupAndItsHotMethod() throws Exception {
    Path file = tmp.resolve("busy.jfr");
    try (Recording recording = new Recording(Configuration.getConfiguration("profile"))) {
      recording.start();
      Thread busy = new Thread(JfrProfilesTest::spin, "busy-worker-1");
      busy.start();
      busy.join();
      recording.stop();
      recording.dump(file);
    }
    String md = JfrProfiles.summary(file);
    assertThat(md).startsWith("## busy.jfr").contains("| busy-worker | ");
    assertThat(md).containsPattern("\\| `JfrProfilesTest\\.(spin|step)` \\| \\d+ \\|");
  }

  private static volatile long sink;

  /**
   * Long enough to be sampled: a recording's execution sampler took its first samples about a second after the
   * recording started here (a 600 ms spin got 0 or 1 samples, a 1.5 s one about 80).
   */
  private static void spin() {
    long end = System.nanoTime() + Duration.ofMillis(1500).toNanos();
    while (System.nanoTime() < end) {
      step();
    }
  }

  private static void step() {
    long x = sink;
    for (int i = 0; i < 10_000; i++) {
      x = x * 6364136223846793005L + 1442695040888963407L;
    }
    sink = x;
  }
}
