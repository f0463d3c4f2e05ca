package io.cachestream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The daemon's background request queue survives a SIGKILL with 200 requests queued or in flight. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RequestQueueIT {
  @TempDir Path tmp;
  final ObjectMapper json = new ObjectMapper();
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private JsonNode call(Daemon daemon, String method, String path, String body) throws Exception {
    String token = json.readTree(tmp.resolve("cache/daemon.json").toFile()).get("token").asText();
    HttpRequest request = HttpRequest.newBuilder(URI.create(daemon.baseUrl + path))
        .header("Authorization", "Bearer " + token)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isLessThan(300);
    return json.readTree(response.body());
  }

  @Test
  void everyRequestReachesAFinalStateWithAWholeResponseAfterTheDaemonIsKilled() throws Exception {
    try (NginxOrigin nginx = new NginxOrigin(tmp.resolve("nginx"))) {
      Map<String, byte[]> files = new HashMap<>();
      Random random = new Random(5);
      for (int i = 0; i < 200; i++) {
        byte[] data = new byte[20_000 + random.nextInt(400_000)];
        random.nextBytes(data);
        files.put("f" + i, data);
        Files.write(nginx.www.resolve("f" + i), data);
      }
      Path cache = tmp.resolve("cache");
      Daemon first = Daemon.start(cache);
      for (int i = 0; i < 200; i++) {
        String url = nginx.url("/slow/f" + i); // 8 MB/s: some are mid-body when the daemon dies
        call(first, "POST", "/api/requests", "{\"method\":\"GET\",\"url\":\"" + url + "\",\"id\":\"r" + i
            + "\",\"retries\":3}");
      }
      NginxOrigin.sleep(300);
      first.kill();

      try (Daemon second = Daemon.start(cache)) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        JsonNode list;
        do {
          NginxOrigin.sleep(200);
          list = call(second, "GET", "/api/requests", null);
        } while (countFinal(list) < 200 && System.nanoTime() < deadline);
        assertThat(countFinal(list)).isEqualTo(200);
        for (int i = 0; i < 200; i++) {
          JsonNode status = call(second, "GET", "/api/requests/r" + i, null);
          assertThat(status.get("status").asText()).as("r%d", i).isEqualTo("completed");
          JsonNode response = call(second, "GET", "/api/requests/r" + i + "/response", null);
          assertThat(response.get("statusCode").asInt()).isEqualTo(200);
          assertThat(Files.readAllBytes(Path.of(response.get("bodyFile").asText())))
              .as("response of r%d is whole and its own", i).isEqualTo(files.get("f" + i));
        }
      }
    }
  }

  private static long countFinal(JsonNode list) {
    long n = 0;
    for (JsonNode s : list) {
      if (!s.get("status").asText().equals("in_progress")) {
        n++;
      }
    }
    return n;
  }
}
