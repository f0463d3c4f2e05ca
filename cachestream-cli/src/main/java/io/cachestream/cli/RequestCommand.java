package io.cachestream.cli;

import io.cachestream.background.BackgroundHttpClient;
import io.cachestream.background.BackgroundListener;
import io.cachestream.background.BackgroundOptions;
import io.cachestream.background.Progress;
import io.cachestream.background.RequestFailedException;
import io.cachestream.background.RequestInfo;
import io.cachestream.background.RequestStatus;
import io.cachestream.background.ResponseInfo;
import io.cachestream.background.StatusInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code cachestream request METHOD URL …} enqueues a durable background request and prints its id; the subcommands
 * {@code status}, {@code response}, {@code cancel}, {@code rm} and {@code list} inspect and manage requests by id.
 *
 * <p>Picocli tries subcommand names first, so {@code request status ID} runs the subcommand while {@code request GET
 * URL} fills the METHOD and URL positionals of this command.
 *
 * <p>Exit codes: 0 success (with {@code --wait}: the request completed); 1 the request failed or was cancelled, or a
 * runtime error; 2 invalid arguments. Errors are one line on stderr; stdout carries only the requested output.
 */
@Command(
    name = "request",
    mixinStandardHelpOptions = true,
    description = {
      "Send an HTTP request in the background: it is stored durably, retried with backoff, waits out network",
      "outages, and its response is saved to a file. Prints the request id.",
      "Requests are sent by the process running the queue of the cache dir (`cachestream serve`), or in the",
      "foreground with --wait."
    },
    subcommands = {
      RequestCommand.Status.class,
      RequestCommand.Response.class,
      RequestCommand.Cancel.class,
      RequestCommand.Remove.class,
      RequestCommand.ListRequests.class
    })
public final class RequestCommand implements Callable<Integer> {
  static final int FAILED = 1;
  static final int USAGE = 2;

  @Spec CommandSpec spec;

  @Option(
      names = "--cache-dir",
      scope = ScopeType.INHERIT,
      paramLabel = "DIR",
      description = "Cache directory (requests live in DIR/requests). Default: $XDG_CACHE_HOME/cachestream or ~/.cache/cachestream.")
  Path cacheDir;

  @Parameters(index = "0", arity = "0..1", paramLabel = "METHOD", description = "GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS.")
  String method;

  @Parameters(index = "1", arity = "0..1", paramLabel = "URL", description = "Absolute http or https URL.")
  String url;

  @Option(names = {"-H", "--header"}, paramLabel = "'K: V'", description = "Request header (repeatable).")
  List<String> headers = new ArrayList<>();

  @Option(names = "--query", paramLabel = "k=v", description = "Query parameter appended to the URL (repeatable).")
  List<String> query = new ArrayList<>();

  @Option(names = "--data", paramLabel = "@file|text", description = "Request body: text, or @file to send a file's content.")
  String data;

  @Option(names = "--form", paramLabel = "k=v", description = "Multipart text field (repeatable; POST only).")
  List<String> form = new ArrayList<>();

  @Option(names = "--file", paramLabel = "name=@path", description = "Multipart file part, streamed from disk (repeatable; POST only).")
  List<String> files = new ArrayList<>();

  @Option(names = "--retries", defaultValue = "0", paramLabel = "N", description = "Retries after the first attempt, 0 to 10 (default ${DEFAULT-VALUE}).")
  int retries;

  @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class, description = "Connect/read/write timeout, e.g. 30s, 500ms, 2m (default 30s).")
  Duration timeout;

  @Option(names = "--id", paramLabel = "ID", description = "Request id to use instead of a generated one (must be new).")
  String id;

  @Option(names = "--wait", description = "Run the request to its end in the foreground (progress on stderr); exit 0 if it completed, 1 if not.")
  boolean await;

  @Override
  public Integer call() {
    if (method == null || url == null) return usage("expected METHOD and URL, or one of: status, response, cancel, rm, list");
    try {
      RequestOptions options =
          new RequestOptions(
              method, url, RequestOptions.headers(headers), RequestOptions.pairs("query", query),
              data != null && !data.startsWith("@") ? data.getBytes(java.nio.charset.StandardCharsets.UTF_8) : null,
              data != null && data.startsWith("@") ? Path.of(data.substring(1)) : null,
              RequestOptions.pairs("form", form), RequestOptions.files(files), retries, timeout,
              // Chosen here rather than by the library so --wait can tell its own events from other requests'.
              id != null ? id : UUID.randomUUID().toString());
      if (options.bodyFile() != null && !Files.isRegularFile(options.bodyFile())) {
        return usage("--data file does not exist: " + options.bodyFile());
      }
      Path dir = cacheDir();
      if (!await) {
        try (BackgroundHttpClient client = BackgroundHttpClient.openEnqueueOnly(dir)) {
          RequestInfo info = options.enqueue(client);
          out().println(info.id());
          out().flush();
          if (!BackgroundHttpClient.isQueueRunning(dir)) {
            err().println("note: no queue is running for " + dir + "; the request is sent once `cachestream serve` runs");
          }
        }
        return 0;
      }
      return enqueueAndWait(dir, options);
    } catch (IllegalArgumentException | IllegalStateException e) {
      return usage(e.getMessage());
    } catch (IOException e) {
      return fail(e.getMessage());
    }
  }

  /** Enqueues, prints the id, then runs the queue here (or waits for the process that runs it) until the end. */
  private int enqueueAndWait(Path dir, RequestOptions options) throws IOException {
    ProgressReport bar = ProgressReport.start("request", System.err);
    BackgroundListener listener = new BackgroundListener() {
      @Override
      public void onStatus(StatusInfo status) {
        if (!status.id().equals(options.id())) return; // the queue may be running other requests of this dir too
        bar.message(status.status().wireName() + (status.lastError() == null ? "" : " (" + status.lastError() + ")"));
      }

      @Override
      public void onProgress(Progress p) {
        if (!p.id().equals(options.id())) return;
        bar.update(p.bytes(), p.total() > 0 ? p.total() : -1);
      }
    };
    try (bar;
        BackgroundHttpClient client = BackgroundHttpClient.open(dir, BackgroundOptions.builder().addListener(listener).build())) {
      RequestInfo info = options.enqueue(client);
      out().println(info.id());
      out().flush();
      bar.message(client.isRunningQueue() ? "running" : "queued for the running `cachestream serve`");
      try {
        ResponseInfo response = client.completion(info.id()).get();
        bar.message("completed: HTTP " + response.statusCode());
        return 0;
      } catch (ExecutionException e) {
        if (e.getCause() instanceof RequestFailedException f) return fail("request " + info.id() + " failed: " + f.status().lastError());
        if (e.getCause() instanceof CancellationException) return fail("request " + info.id() + " was cancelled");
        return fail(String.valueOf(e.getCause().getMessage()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return fail("interrupted; request " + info.id() + " stays queued");
      }
    }
  }

  Path cacheDir() {
    return CacheAccess.cacheDirOrDefault(cacheDir);
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  int usage(String message) {
    err().println("cachestream request: " + message);
    return USAGE;
  }

  int fail(String message) {
    err().println("cachestream request: " + message);
    return FAILED;
  }

  /** Opens the cache dir for reading and managing requests; never runs the queue. */
  BackgroundHttpClient openForReading() throws IOException {
    return BackgroundHttpClient.openEnqueueOnly(cacheDir());
  }

  /** Base of the subcommands: one id argument, shared error handling. */
  abstract static class ById implements Callable<Integer> {
    @ParentCommand RequestCommand parent;

    @Parameters(index = "0", paramLabel = "ID", description = "Request id.")
    String id;

    @Override
    public final Integer call() {
      try (BackgroundHttpClient client = parent.openForReading()) {
        Optional<StatusInfo> status = client.status(id);
        if (status.isEmpty()) return parent.fail("no request with id '" + id + "'");
        return run(client, status.get());
      } catch (IOException e) {
        return parent.fail(e.getMessage());
      }
    }

    abstract int run(BackgroundHttpClient client, StatusInfo status) throws IOException;
  }

  @Command(name = "status", mixinStandardHelpOptions = true, description = "Print a request's status.")
  static final class Status extends ById {
    @Option(names = "--json", description = "JSON with id, status (in_progress|completed|failed|cancelled), attempts, retries, method, url, createdAt, updatedAt, nextAttemptAt, lastError.")
    boolean json;

    @Override
    int run(BackgroundHttpClient client, StatusInfo s) {
      if (json) {
        parent.out().println(RequestJson.write(RequestJson.status(s)));
      } else {
        parent.out().printf("%s %s attempts=%d/%d %s %s%s%s%n", s.id(), s.status().wireName(), s.attempts(), s.retries() + 1,
            s.method(), s.url(),
            s.nextAttemptAt() == null ? "" : " next=" + s.nextAttemptAt(),
            s.lastError() == null ? "" : " error=" + s.lastError());
      }
      return 0;
    }
  }

  @Command(name = "response", mixinStandardHelpOptions = true, description = "Print the saved response of a finished request.")
  static final class Response extends ById {
    @Option(names = "--json", description = "JSON with id, statusCode, headers, bodyFile, bodyLength.")
    boolean json;

    @Option(names = "--body", description = "Write the response body itself to stdout.")
    boolean body;

    @Override
    int run(BackgroundHttpClient client, StatusInfo s) throws IOException {
      Optional<ResponseInfo> response = client.response(id);
      if (response.isEmpty()) {
        return parent.fail("request '" + id + "' has no response" + (s.isFinal() ? "" : " yet") + " (" + s.status().wireName() + ")");
      }
      ResponseInfo r = response.get();
      if (body) {
        parent.out().flush();
        Files.copy(r.bodyFile(), System.out);
        System.out.flush();
      } else if (json) {
        parent.out().println(RequestJson.write(RequestJson.response(r)));
      } else {
        parent.out().println(r.statusCode());
        r.headers().forEach((k, values) -> values.forEach(v -> parent.out().println(k + ": " + v)));
        parent.out().println();
        parent.out().println("body: " + r.bodyFile().toAbsolutePath() + " (" + r.bodyLength() + " bytes)");
      }
      return 0;
    }
  }

  @Command(name = "cancel", mixinStandardHelpOptions = true, description = "Cancel a request in progress; it is never retried.")
  static final class Cancel extends ById {
    @Override
    int run(BackgroundHttpClient client, StatusInfo s) throws IOException {
      if (!client.cancel(id)) return parent.fail("request '" + id + "' is already " + s.status().wireName());
      return 0;
    }
  }

  @Command(name = "rm", mixinStandardHelpOptions = true, description = "Delete a request and its files (cancelling it if in progress).")
  static final class Remove extends ById {
    @Override
    int run(BackgroundHttpClient client, StatusInfo s) throws IOException {
      return client.delete(id) ? 0 : parent.fail("no request with id '" + id + "'");
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List requests, oldest first.")
  static final class ListRequests implements Callable<Integer> {
    @ParentCommand RequestCommand parent;

    @Option(names = "--status", paramLabel = "S", description = "Only in_progress, completed, failed or cancelled.")
    String status;

    @Option(names = "--json", description = "A JSON array of status objects (as `status --json`).")
    boolean json;

    @Override
    public Integer call() {
      RequestStatus wanted;
      try {
        wanted = status == null ? null : RequestStatus.fromWireName(status);
      } catch (IllegalArgumentException e) {
        return parent.usage(e.getMessage());
      }
      try (BackgroundHttpClient client = parent.openForReading()) {
        List<StatusInfo> list = client.list(s -> wanted == null || s.status() == wanted);
        if (json) {
          parent.out().println(RequestJson.write(list.stream().map(RequestJson::status).toList()));
        } else {
          for (StatusInfo s : list) {
            parent.out().printf("%s\t%s\t%d\t%s\t%s%n", s.id(), s.status().wireName(), s.attempts(), s.method(), s.url());
          }
        }
        return 0;
      } catch (IOException e) {
        return parent.fail(e.getMessage());
      }
    }
  }

  /** Picocli converter for {@code --timeout}. */
  static final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return RequestOptions.parseDuration(value);
    }
  }
}
