package io.cachestream.background;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class BadInputTest {
  private static final String URL = "http://127.0.0.1:9/x";

  @TempDir Path dir;
  private BackgroundHttpClient client;

  @BeforeEach
  void setUp() throws Exception {
    client = BackgroundHttpClient.openEnqueueOnly(dir);
  }

  @AfterEach
  void tearDown() throws Exception {
    client.close();
  }

  @Test
  void retriesOutsideZeroToTenAreRejectedNamingFieldAndValue() {
    assertThatThrownBy(() -> RequestSpec.retries(11)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("retries must be between 0 and 10, got 11");
    assertThatThrownBy(() -> RequestSpec.retries(-1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("retries must be between 0 and 10, got -1");
    assertThat(RequestSpec.retries(0).retries()).isZero();
    assertThat(RequestSpec.retries(10).retries()).isEqualTo(10);
  }

  @Test
  void missingMultipartFileIsRejectedAtEnqueueAndNothingIsWritten() throws Exception {
    Path present = Files.writeString(dir.resolve("present.txt"), "hi");
    Path missing = dir.resolve("missing.bin");
    assertThatThrownBy(() -> client.postMultipart(URL, Map.of("a", "b"), Map.of("ok", present, "file", missing), RequestSpec.DEFAULT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'file'")
        .hasMessageContaining(missing.toString());
    assertThat(client.list()).isEmpty();
  }

  @Test
  void duplicateRequestIdIsRejectedAndTheFirstIsKept() throws Exception {
    client.post(URL, RequestSpec.builder().id("once").body("first").build());
    assertThatThrownBy(() -> client.post(URL, RequestSpec.builder().id("once").body("second").build()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("'once' already exists");
    assertThat(Files.readString(dir.resolve("requests/once/body"))).isEqualTo("first");
    assertThat(client.list()).hasSize(1);
  }

  @Test
  void malformedOrNonHttpUrlsAreRejected() {
    for (String url : new String[] {"not a url", "ftp://example.com/x", "/relative", "http://"}) {
      assertThatThrownBy(() -> client.get(url)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("URL");
    }
  }

  @Test
  void otherBadArgumentsAreRejected() {
    assertThatThrownBy(() -> client.send("BREW", URL, RequestSpec.DEFAULT)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("BREW");
    assertThatThrownBy(() -> client.get(URL, RequestSpec.builder().body("x").build())).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RequestSpec.builder().id("../escape")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("../escape");
    assertThatThrownBy(() -> RequestSpec.builder().addHeader("Bad Name", "v")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RequestSpec.builder().bodyFile(dir.resolve("nope"))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BackgroundOptions.builder().maxConcurrencyPerHost(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxConcurrencyPerHost must be at least 1, got 0");
  }

  @Test
  void unwritableDirectoryFailsOpenWithAClearError() throws Exception {
    Path file = Files.writeString(dir.resolve("a-file"), "not a directory");
    assertThatThrownBy(() -> BackgroundHttpClient.open(file.resolve("sub")))
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith("cannot use " + file.resolve("sub"));
  }

  @Test
  void unknownIdsReadAsAbsent() throws Exception {
    assertThat(client.status("nope")).isEmpty();
    assertThat(client.status("../../etc")).isEmpty();
    assertThat(client.response("nope")).isEmpty();
    assertThat(client.cancel("nope")).isFalse();
    assertThat(client.delete("nope")).isFalse();
    assertThat(client.completion("nope")).isCompletedExceptionally();
  }
}
