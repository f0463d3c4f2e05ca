package io.cachestream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scenario benchmark's quick version, run in CI so that it cannot rot: every scenario must run against real
 * nginx and the real daemon. Its numbers gate nothing.
 */
class ScenarioBenchSmokeIT {
  @TempDir Path tmp;

  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void everyScenarioRunsAndTheMarkdownTableAndTheProfilesAreWritten() throws Exception {
    Path jar = Path.of(System.getProperty("user.dir")).resolveSibling("cachestream-cli/target/cachestream.jar");
    Path markdown = tmp.resolve("bench.md");
    Path jfr = tmp.resolve("jfr");
    int code = ScenarioBench.run("--quick", "--jar", jar.toString(), "--markdown", markdown.toString(),
        "--jfr", jfr.toString());
    assertThat(code).isZero();
    String table = Files.readString(markdown);
    for (String scenario : new String[] {"S1", "S2", "S3", "S4", "S5", "S6", "S7", "RSS", "Ready"}) {
      assertThat(table).contains("| " + scenario + " |");
    }
    // One recording per scenario and daemon, summed up; the hot stream's event loop is sampled in sendfile or Java.
    assertThat(jfr.resolve("s1-default.jfr")).isNotEmptyFile();
    assertThat(jfr.resolve("s7-read-ahead.jfr")).isNotEmptyFile();
    assertThat(Files.readString(jfr.resolve("profile.md")))
        .contains("## s1-default.jfr", "## s4-read-ahead.jfr", "| cachestream-server");
  }
}
