package io.cachestream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code cachestream precache | ls | rm} as scripts use them, with and without a daemon holding the cache dir. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CacheCommandsIT {
  @TempDir static Path tmp;
  NginxOrigin nginx;
  final ObjectMapper json = new ObjectMapper();

  record Result(int exit, String out, String err) {}

  @BeforeAll
  void startOrigin() throws Exception {
    nginx = new NginxOrigin(tmp.resolve("nginx"));
    for (String name : new String[] {"a.bin", "b.bin", "c.bin"}) {
      byte[] data = new byte[3 << 20];
      new Random(name.hashCode()).nextBytes(data);
      Files.write(nginx.www.resolve(name), data);
    }
  }

  @AfterAll
  void stopOrigin() {
    nginx.close();
  }

  static Result cli(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Daemon.REPO.resolve("bin/cachestream").toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).start();
    byte[] out = p.getInputStream().readAllBytes();
    byte[] err = p.getErrorStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
  }

  @Test
  void precacheLsAndRmWorkOnTheCacheDirDirectly() throws Exception {
    String dir = tmp.resolve("direct").toString();
    Result pre = cli("precache", nginx.url("/a.bin"), "--cache-dir", dir);
    assertThat(pre.exit()).as(pre.err()).isZero();
    assertThat(pre.out()).isEmpty();
    assertThat(pre.err()).contains("precache " + nginx.url("/a.bin"));

    Result partial = cli("precache", "--max-bytes", "1000000", nginx.url("/b.bin"), "--cache-dir", dir);
    assertThat(partial.exit()).isZero();

    JsonNode entries = json.readTree(cli("ls", "--json", "--cache-dir", dir).out());
    assertThat(entries).hasSize(2);
    for (JsonNode e : entries) {
      assertThat(e.has("url") && e.has("length") && e.has("cachedBytes") && e.has("complete") && e.has("lastAccess"))
          .isTrue();
      if (e.get("url").asText().endsWith("/a.bin")) {
        assertThat(e.get("complete").asBoolean()).isTrue();
        assertThat(e.get("cachedBytes").asLong()).isEqualTo(3 << 20);
      } else {
        assertThat(e.get("complete").asBoolean()).isFalse();
        assertThat(e.get("cachedBytes").asLong()).isEqualTo(1_000_000);
        assertThat(e.get("length").asLong()).isEqualTo(3 << 20);
      }
    }
    assertThat(cli("ls", "--cache-dir", dir).out()).contains("/a.bin").contains("/b.bin").contains("100.0%");

    assertThat(cli("rm", nginx.url("/a.bin"), "--cache-dir", dir).exit()).isZero();
    Result again = cli("rm", nginx.url("/a.bin"), "--cache-dir", dir);
    assertThat(again.exit()).isNotZero();
    assertThat(again.err().lines()).hasSize(1).first().asString().startsWith("cachestream: no cache entry");
    assertThat(cli("rm", "--all", "--cache-dir", dir).exit()).isZero();
    assertThat(json.readTree(cli("ls", "--json", "--cache-dir", dir).out())).isEmpty();
  }

  @Test
  void commandsTalkToTheDaemonHoldingTheCacheDir() throws Exception {
    Path dir = tmp.resolve("daemon");
    try (Daemon daemon = Daemon.start(dir)) {
      Result pre = cli("precache", nginx.url("/c.bin"), "--cache-dir", dir.toString());
      assertThat(pre.exit()).as(pre.err()).isZero();
      JsonNode entries = json.readTree(cli("ls", "--json", "--cache-dir", dir.toString()).out());
      assertThat(entries).hasSize(1);
      assertThat(entries.get(0).get("complete").asBoolean()).isTrue();
      // The daemon serves what the command cached, without asking the origin again.
      long before = nginx.requestCount("/c.bin");
      assertThat(DaemonEndToEndIT.run(30, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
          daemon.proxyUrl(nginx.url("/c.bin")))).isEqualTo("200");
      assertThat(nginx.requestCount("/c.bin")).isEqualTo(before);
      assertThat(cli("rm", "--inactive", "--cache-dir", dir.toString()).exit()).isZero();
      assertThat(json.readTree(cli("ls", "--json", "--cache-dir", dir.toString()).out())).isEmpty();
    }
  }

  @Test
  void failuresExitNonZeroWithOneLineOnStderr() throws Exception {
    String dir = tmp.resolve("failures").toString();
    Result missing = cli("precache", nginx.url("/missing.bin"), "--cache-dir", dir);
    assertThat(missing.exit()).isNotZero();
    assertThat(missing.err()).contains("cachestream: precache " + nginx.url("/missing.bin") + " failed: origin answered 404");
    Result badUrl = cli("precache", "ftp://example.com/x", "--cache-dir", dir);
    assertThat(badUrl.exit()).isNotZero();
    assertThat(badUrl.err().lines().filter(l -> l.startsWith("cachestream:"))).hasSize(1);
    Result negative = cli("precache", "--max-bytes", "-1", nginx.url("/a.bin"), "--cache-dir", dir);
    assertThat(negative.exit()).isNotZero();
    assertThat(negative.err()).contains("--max-bytes");
    Result nothing = cli("rm", "--cache-dir", dir);
    assertThat(nothing.exit()).isNotZero();
  }
}
