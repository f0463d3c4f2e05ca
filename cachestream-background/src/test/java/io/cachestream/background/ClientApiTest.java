package io.cachestream.background;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ClientApiTest extends OriginTestSupport {
  @Test
  void multipartUploadSendsFieldsAndFilesFromDisk() throws Exception {
    Path file = Files.writeString(dir.resolve("notes.txt"), "file content");
    server.enqueue(new MockResponse.Builder().code(201).build());
    try (BackgroundHttpClient client = BackgroundHttpClient.open(dir)) {
      Map<String, String> fields = new LinkedHashMap<>();
      fields.put("title", "hello");
      RequestInfo info = client.postMultipart(url("/upload"), fields, Map.of("attachment", file), RequestSpec.DEFAULT);
      assertThat(client.completion(info.id()).get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(201);
    }
    RecordedRequest r = server.takeRequest();
    assertThat(r.getMethod()).isEqualTo("POST");
    assertThat(r.getHeaders().get("Content-Type")).startsWith("multipart/form-data; boundary=");
    String body = r.getBody().utf8();
    assertThat(body).contains("name=\"title\"", "hello", "name=\"attachment\"; filename=\"notes.txt\"", "file content");
  }

  @Test
  void everyMethodIsSentAsAsked() throws Exception {
    server.setDispatcher(new mockwebserver3.Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        // A HEAD answer must not carry a body, or the connection is out of step for the next call.
        return request.getMethod().equals("HEAD") ? new MockResponse.Builder().build() : new MockResponse.Builder().body("ok").build();
      }
    });
    Path bodyFile = Files.writeString(dir.resolve("in.json"), "{}");
    try (BackgroundHttpClient client = BackgroundHttpClient.open(dir)) {
      List<RequestInfo> infos =
          List.of(
              client.get(url("/g")),
              client.head(url("/h"), RequestSpec.DEFAULT),
              client.delete(url("/d"), RequestSpec.DEFAULT),
              client.put(url("/p"), RequestSpec.builder().bodyFile(bodyFile).contentType("application/json").build()),
              client.patch(url("/pa"), RequestSpec.builder().body(new byte[] {1, 2}).build()),
              client.post(url("/po"), RequestSpec.DEFAULT));
      for (RequestInfo info : infos) client.completion(info.id()).get(10, TimeUnit.SECONDS);
      ResponseInfo head = client.response(infos.get(1).id()).orElseThrow();
      assertThat(head.bodyLength()).isZero();
    }
    List<String> seen = new java.util.ArrayList<>();
    for (int i = 0; i < 6; i++) {
      RecordedRequest r = server.takeRequest();
      seen.add(r.getMethod() + " " + r.getTarget() + " " + r.getBodySize());
    }
    assertThat(seen).containsExactlyInAnyOrder("GET /g 0", "HEAD /h 0", "DELETE /d 0", "PUT /p 2", "PATCH /pa 2", "POST /po 0");
  }

  @Test
  void listenerSeesStatusAndProgressAndListFilters() throws Exception {
    server.enqueue(new MockResponse.Builder().body("x".repeat(200_000)).build());
    server.enqueue(new MockResponse.Builder().code(400).build());
    List<StatusInfo> statuses = new CopyOnWriteArrayList<>();
    List<Progress> progress = new CopyOnWriteArrayList<>();
    BackgroundListener listener = new BackgroundListener() {
      @Override
      public void onStatus(StatusInfo status) {
        statuses.add(status);
      }

      @Override
      public void onProgress(Progress p) {
        progress.add(p);
      }
    };
    try (BackgroundHttpClient client = BackgroundHttpClient.open(dir, BackgroundOptions.builder().addListener(listener).build())) {
      RequestInfo ok = client.get(url("/big"));
      client.completion(ok.id()).get(10, TimeUnit.SECONDS);
      RequestInfo bad = client.get(url("/bad"));
      client.completion(bad.id()).exceptionally(e -> null).get(10, TimeUnit.SECONDS);

      assertThat(statuses).extracting(StatusInfo::id, StatusInfo::status).contains(
          org.assertj.core.groups.Tuple.tuple(ok.id(), RequestStatus.IN_PROGRESS),
          org.assertj.core.groups.Tuple.tuple(ok.id(), RequestStatus.COMPLETED),
          org.assertj.core.groups.Tuple.tuple(bad.id(), RequestStatus.FAILED));
      Progress last = progress.stream().filter(p -> p.id().equals(ok.id())).reduce((a, b) -> b).orElseThrow();
      assertThat(last.direction()).isEqualTo(Progress.Direction.DOWNLOAD);
      assertThat(last.bytes()).isEqualTo(200_000);
      assertThat(last.total()).isEqualTo(200_000);

      assertThat(client.list(s -> s.status() == RequestStatus.COMPLETED)).extracting(StatusInfo::id).containsExactly(ok.id());
      assertThat(client.list(s -> s.status() == RequestStatus.FAILED)).extracting(StatusInfo::id).containsExactly(bad.id());
      assertThat(client.list()).hasSize(2);
    }
  }

  @Test
  void deleteAndCleanupRemoveFinishedRequests() throws Exception {
    ManualClock clock = new ManualClock();
    for (int i = 0; i < 4; i++) server.enqueue(new MockResponse.Builder().body("r" + i).build());
    try (BackgroundHttpClient client = BackgroundHttpClient.open(dir, BackgroundOptions.builder().clock(clock).build())) {
      List<String> ids = new java.util.ArrayList<>();
      for (int i = 0; i < 4; i++) {
        String id = client.get(url("/" + i)).id();
        client.completion(id).get(10, TimeUnit.SECONDS);
        ids.add(id);
        clock.advance(Duration.ofHours(1));
      }
      String pending = client.get(Loopback.url(Loopback.freePort(), "/never"), RequestSpec.builder().id("pending").build()).id();

      assertThat(client.delete(ids.get(3))).isTrue();
      assertThat(client.status(ids.get(3))).isEmpty();
      assertThat(dir.resolve("requests").resolve(ids.get(3))).doesNotExist();

      // ids 0,1,2 finished 4h, 3h and 2h ago (clock now at +4h): older than 150 min goes, then keep at most 1.
      assertThat(client.cleanup(Duration.ofMinutes(150), 10)).isEqualTo(2);
      assertThat(client.list()).extracting(StatusInfo::id).containsExactly(ids.get(2), pending);
      assertThat(client.cleanup(Duration.ofDays(1), 0)).isEqualTo(1);
      assertThat(client.list()).extracting(StatusInfo::id).containsExactly(pending);
    }
  }
}
