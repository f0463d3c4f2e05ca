package io.cachestream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

@Timeout(60)
class RequestCommandTest {
  @TempDir Path dir;
  private RequestTestOrigin origin;

  @BeforeEach
  void setUp() throws Exception {
    origin = new RequestTestOrigin();
  }

  @AfterEach
  void tearDown() {
    origin.close();
  }

  private record Run(int exit, String out, String err) {
    List<String> outLines() {
      return out.lines().toList();
    }

    JsonNode json() throws Exception {
      return RequestJson.MAPPER.readTree(out);
    }
  }

  private Run run(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--cache-dir");
    all.add(dir.toString());
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    // As Main must do too: otherwise picocli expands "--data @file" as an argument file.
    CommandLine cli = new CommandLine(new RequestCommand()).setExpandAtFiles(false);
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int exit = cli.execute(all.toArray(String[]::new));
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void enqueuePrintsTheIdAsTheOnlyLineOnStdout() throws Exception {
    Run r = run("GET", origin.url("/ok"), "--id", "job-1", "-H", "Accept: text/plain", "--query", "a=1");
    assertThat(r.exit()).isZero();
    assertThat(r.outLines()).containsExactly("job-1");
    assertThat(r.err()).contains("no queue is running");

    Run status = run("status", "job-1", "--json");
    assertThat(status.exit()).isZero();
    assertThat(status.json().get("status").asText()).isEqualTo("in_progress");
    assertThat(status.json().get("attempts").asInt()).isZero();
    assertThat(status.json().get("url").asText()).isEqualTo(origin.url("/ok?a=1"));
    assertThat(dir.resolve("requests/job-1/request.json")).exists();
  }

  @Test
  void waitRunsTheRequestAndExitsZeroWhenItCompletes() throws Exception {
    Run r = run("GET", origin.url("/ok"), "--wait");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.outLines()).hasSize(1);
    String id = r.outLines().get(0);

    Run status = run("status", id, "--json");
    assertThat(status.json().get("status").asText()).isEqualTo("completed");
    assertThat(status.json().get("attempts").asInt()).isEqualTo(1);

    Run response = run("response", id, "--json");
    assertThat(response.exit()).isZero();
    JsonNode json = response.json();
    assertThat(json.get("statusCode").asInt()).isEqualTo(200);
    assertThat(json.get("headers").get("x-origin").get(0).asText()).isEqualTo("test");
    assertThat(Files.readString(Path.of(json.get("bodyFile").asText()))).isEqualTo("hello");
  }

  @Test
  void waitExitsNonZeroWhenTheRequestFails() throws Exception {
    Run r = run("GET", origin.url("/fail"), "--wait", "--retries", "0", "--id", "bad");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.outLines()).containsExactly("bad");
    assertThat(r.err()).contains("request bad failed: HTTP 500");

    Run status = run("status", "bad", "--json");
    assertThat(status.json().get("status").asText()).isEqualTo("failed");
    assertThat(status.json().get("attempts").asInt()).isEqualTo(1);
    assertThat(run("response", "bad", "--json").json().get("statusCode").asInt()).isEqualTo(500);
  }

  @Test
  void postSendsDataFromAFileAndMultipartFormsStreamFiles() throws Exception {
    Path data = Files.writeString(dir.resolve("data.json"), "{\"x\":1}");
    Run post = run("POST", origin.url("/echo"), "--data", "@" + data, "-H", "Content-Type: application/json", "--wait");
    assertThat(post.exit()).as(post.err()).isZero();
    Path upload = Files.writeString(dir.resolve("up.txt"), "file body");
    assertThat(run("POST", origin.url("/form"), "--form", "title=hi", "--file", "doc=@" + upload, "--wait").exit()).isZero();
    assertThat(origin.received).anySatisfy(s -> assertThat(s).isEqualTo("POST /echo {\"x\":1}"));
    assertThat(origin.received).anySatisfy(s -> assertThat(s).startsWith("POST /form").contains("name=\"title\"", "hi", "filename=\"up.txt\"", "file body"));
  }

  @Test
  void listCancelAndRmManageRequests() throws Exception {
    run("GET", origin.url("/ok"), "--id", "done", "--wait");
    run("GET", origin.url("/ok"), "--id", "queued");

    Run all = run("list", "--json");
    assertThat(all.json()).hasSize(2);
    Run queued = run("list", "--status", "in_progress");
    assertThat(queued.outLines()).hasSize(1).first().asString().startsWith("queued\tin_progress\t0\tGET\t");

    assertThat(run("cancel", "queued").exit()).isZero();
    assertThat(run("status", "queued", "--json").json().get("status").asText()).isEqualTo("cancelled");
    Run again = run("cancel", "queued");
    assertThat(again.exit()).isEqualTo(1);
    assertThat(again.err()).contains("already cancelled");

    assertThat(run("rm", "done").exit()).isZero();
    assertThat(run("list", "--json").json()).hasSize(1);
    assertThat(dir.resolve("requests/done")).doesNotExist();
  }

  @Test
  void badInputExitsNonZeroWithOneLineOnStderr() {
    Run retries = run("GET", origin.url("/ok"), "--retries", "11");
    assertThat(retries.exit()).isEqualTo(2);
    assertThat(retries.out()).isEmpty();
    assertThat(retries.err().lines()).containsExactly("cachestream request: retries must be between 0 and 10, got 11");

    Run missingFile = run("POST", origin.url("/x"), "--file", "doc=@" + dir.resolve("nope"));
    assertThat(missingFile.exit()).isEqualTo(2);
    assertThat(missingFile.err().lines()).hasSize(1).first().asString().contains("does not exist");

    Run url = run("GET", "ftp://example.com/x");
    assertThat(url.exit()).isEqualTo(2);
    assertThat(url.err().lines()).hasSize(1);

    Run unknown = run("status", "nope");
    assertThat(unknown.exit()).isEqualTo(1);
    assertThat(unknown.err().lines()).containsExactly("cachestream request: no request with id 'nope'");

    run("GET", origin.url("/ok"), "--id", "twice");
    Run duplicate = run("GET", origin.url("/ok"), "--id", "twice");
    assertThat(duplicate.exit()).isEqualTo(2);
    assertThat(duplicate.err()).contains("already exists");

    Run noArgs = run();
    assertThat(noArgs.exit()).isEqualTo(2);
    assertThat(noArgs.err().lines()).hasSize(1);
  }
}
