package io.cachestream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.cachestream.LocalApi;
import io.cachestream.background.BackgroundHttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class RequestsApiTest {
  @TempDir Path dir;
  private RequestTestOrigin origin;
  private BackgroundHttpClient client;
  private RequestsApi api;

  @BeforeEach
  void setUp() throws Exception {
    origin = new RequestTestOrigin();
    client = BackgroundHttpClient.open(dir);
    api = new RequestsApi(client);
  }

  @AfterEach
  void tearDown() throws Exception {
    client.close();
    origin.close();
  }

  private LocalApi.Response call(String method, String path, String query, String body) throws Exception {
    return api.handle(method, path, query, Map.of(), body.getBytes(StandardCharsets.UTF_8));
  }

  private static JsonNode json(LocalApi.Response r) throws Exception {
    return RequestJson.MAPPER.readTree(r.body());
  }

  @Test
  void createThenReadStatusResponseListAndDelete() throws Exception {
    String create = "{\"method\":\"POST\",\"url\":\"" + origin.url("/echo") + "\",\"body\":\"abc\",\"retries\":2,"
        + "\"headers\":{\"X-A\":\"1\"},\"query\":{\"q\":\"v\"},\"timeoutSeconds\":5}";
    LocalApi.Response created = call("POST", "/", "", create);
    assertThat(created.status()).isEqualTo(201);
    assertThat(created.contentType()).isEqualTo("application/json");
    String id = json(created).get("id").asText();

    client.completion(id).get(10, TimeUnit.SECONDS);
    JsonNode status = json(call("GET", "/" + id, "", ""));
    assertThat(status.get("status").asText()).isEqualTo("completed");
    assertThat(status.get("attempts").asInt()).isEqualTo(1);
    assertThat(status.get("retries").asInt()).isEqualTo(2);

    JsonNode response = json(call("GET", "/" + id + "/response", "", ""));
    assertThat(response.get("statusCode").asInt()).isEqualTo(200);
    assertThat(Files.readString(Path.of(response.get("bodyFile").asText()))).isEqualTo("POST 3");
    assertThat(origin.received).containsExactly("POST /echo?q=v abc");

    assertThat(json(call("GET", "/", "status=completed", ""))).hasSize(1);
    assertThat(json(call("GET", "/", "status=failed", ""))).isEmpty();

    assertThat(call("DELETE", "/" + id, "", "").status()).isEqualTo(204);
    assertThat(call("GET", "/" + id, "", "").status()).isEqualTo(404);
  }

  @Test
  void badInputIsAnsweredWithJsonErrors() throws Exception {
    assertThat(call("POST", "/", "", "{not json").status()).isEqualTo(400);
    LocalApi.Response retries = call("POST", "/", "", "{\"method\":\"GET\",\"url\":\"" + origin.url("/") + "\",\"retries\":11}");
    assertThat(retries.status()).isEqualTo(400);
    assertThat(json(retries).get("error").asText()).isEqualTo("retries must be between 0 and 10, got 11");
    assertThat(call("POST", "/", "", "{\"method\":\"GET\",\"url\":\"ftp://x/\"}").status()).isEqualTo(400);
    assertThat(call("POST", "/", "", "{\"url\":\"" + origin.url("/") + "\"}").status()).isEqualTo(400);

    String withId = "{\"method\":\"GET\",\"url\":\"" + origin.url("/ok") + "\",\"id\":\"same\"}";
    assertThat(call("POST", "/", "", withId).status()).isEqualTo(201);
    assertThat(call("POST", "/", "", withId).status()).isEqualTo(409);

    assertThat(call("GET", "/nope", "", "").status()).isEqualTo(404);
    assertThat(call("GET", "/nope/response", "", "").status()).isEqualTo(404);
    assertThat(call("DELETE", "/nope", "", "").status()).isEqualTo(404);
    assertThat(call("PUT", "/", "", "").status()).isEqualTo(405);
    assertThat(call("GET", "/", "status=bogus", "").status()).isEqualTo(400);
  }
}
