package io.cachestream.background;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.Call;
import okhttp3.MediaType;
import okhttp3.MultipartBody;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okhttp3.internal.http.HttpMethod;

/**
 * Sends a stored request once and streams the answer to {@code response.body.part}: never more than a 64 KiB buffer of
 * either body is in memory. A GET whose body was cut off leaves the part file plus {@code response.part.json}, and the
 * next run resumes it with {@code Range}/{@code If-Range}.
 */
final class CallRunner {
  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
  private static final MediaType OCTET_STREAM = MediaType.get("application/octet-stream");
  private static final int BUFFER = 64 * 1024;

  private final OkHttpClient base;
  private final RequestStore store;
  private final Events events;
  private final Clock clock;
  private final Map<Long, OkHttpClient> clientsByTimeout = new ConcurrentHashMap<>();

  CallRunner(OkHttpClient base, RequestStore store, Events events, Clock clock) {
    this.base = base;
    this.store = store;
    this.events = events;
    this.clock = clock;
  }

  /**
   * Runs one attempt.
   *
   * @param isFinal whether an answer with this status code ends the request (so its body must be saved); bodies of
   *     answers that will be retried are discarded unread
   */
  Attempt.Outcome run(StoredRequest r, Attempt attempt, IntPredicate isFinal) throws IOException {
    Path dir = store.dir(r.id());
    RequestBody body;
    try {
      body = requestBody(r, dir);
    } catch (MissingFileException e) {
      return new Attempt.Unsendable(e.getMessage());
    }
    PartialDownload partial = resumable(r, dir);
    Call call = client(r.timeoutMillis()).newCall(request(r, body, partial));
    attempt.bind(call);
    Attempt.Outcome outcome;
    try (Response response = call.execute()) {
      outcome = answer(r, dir, response, partial, isFinal);
    } catch (IOException e) {
      return new Attempt.Failed(e, !call.isCanceled() && Failures.isUnreachable(e));
    }
    // null: the origin did not honour our range (changed resource, wrong Content-Range); the partial download is
    // gone, so this runs once more from byte 0.
    return outcome != null ? outcome : run(r, attempt, isFinal);
  }

  private Attempt.Outcome answer(StoredRequest r, Path dir, Response response, PartialDownload partial, IntPredicate isFinal)
      throws IOException {
    long offset = partial == null ? 0 : resumeOffset(response, partial);
    if (offset < 0) {
      store.discardPartial(r.id());
      return null;
    }
    int code = response.code();
    if (!isFinal.test(code)) {
      return new Attempt.Answered(code, response.message(), false, Backoff.retryAfter(response.header("Retry-After"), clock.instant()));
    }
    long length = download(r, dir, response, offset, partial == null ? null : partial.validator());
    store.commitResponse(r.id(), storedResponse(response, offset, length));
    return new Attempt.Answered(offset > 0 ? 200 : code, response.message(), true, null);
  }

  private OkHttpClient client(long timeoutMillis) {
    return clientsByTimeout.computeIfAbsent(
        timeoutMillis,
        t ->
            base.newBuilder()
                .connectTimeout(t, TimeUnit.MILLISECONDS)
                .readTimeout(t, TimeUnit.MILLISECONDS)
                .writeTimeout(t, TimeUnit.MILLISECONDS)
                .build());
  }

  private Request request(StoredRequest r, RequestBody body, PartialDownload partial) {
    Request.Builder b = new Request.Builder().url(r.url());
    r.headers().forEach(h -> b.addHeader(h.name(), h.value()));
    if (r.idempotencyKey() != null) b.header("Idempotency-Key", r.idempotencyKey());
    if (partial != null) {
      b.header("Range", "bytes=" + partial.length() + "-");
      b.header("If-Range", partial.validator());
    }
    return b.method(r.method(), body).build();
  }

  private RequestBody requestBody(StoredRequest r, Path dir) throws MissingFileException {
    RequestBody body;
    MediaType type = r.contentType() == null ? OCTET_STREAM : MediaType.parse(r.contentType());
    if (r.isMultipart()) {
      MultipartBody.Builder multipart = new MultipartBody.Builder().setType(MultipartBody.FORM);
      for (StoredRequest.NameValue field : r.formFields()) multipart.addFormDataPart(field.name(), field.value());
      for (StoredRequest.FormFile f : r.formFiles()) {
        File file = new File(f.path());
        if (!file.isFile()) throw new MissingFileException("multipart file " + f.name() + " no longer exists: " + f.path());
        multipart.addFormDataPart(f.name(), f.fileName(), RequestBody.create(file, MediaType.parse(f.contentType())));
      }
      body = multipart.build();
    } else if (r.hasBody()) {
      body = RequestBody.create(dir.resolve(RequestStore.BODY).toFile(), type);
    } else if (HttpMethod.requiresRequestBody(r.method())) {
      body = RequestBody.create(new byte[0], null);
    } else {
      return null;
    }
    long total = contentLength(body);
    return new ProgressRequestBody(body, sent -> events.progress(new Progress(r.id(), Progress.Direction.UPLOAD, sent, total)));
  }

  private static long contentLength(RequestBody body) {
    try {
      return body.contentLength();
    } catch (IOException e) {
      return -1;
    }
  }

  /** The saved partial download to resume, or null (stale part files are removed). */
  private PartialDownload resumable(StoredRequest r, Path dir) throws IOException {
    Path part = dir.resolve(RequestStore.PART);
    PartialDownload partial = "GET".equals(r.method()) ? store.readPartial(r.id()).orElse(null) : null;
    if (partial != null && partial.length() > 0 && Files.exists(part) && Files.size(part) >= partial.length()) {
      return partial;
    }
    store.discardPartial(r.id());
    return null;
  }

  /** Where to append: the partial length for a matching 206, 0 for a full 200 or any other answer, -1 to start over. */
  private static long resumeOffset(Response response, PartialDownload partial) {
    if (response.code() != 206) return response.code() == 416 ? -1 : 0;
    Matcher m = CONTENT_RANGE.matcher(String.valueOf(response.header("Content-Range")));
    return m.matches() && Long.parseLong(m.group(1)) == partial.length() ? partial.length() : -1;
  }

  /** Streams the body to the part file (appending at {@code offset}) and fsyncs it; returns the total length. */
  private long download(StoredRequest r, Path dir, Response response, long offset, String earlierValidator)
      throws IOException {
    Path part = dir.resolve(RequestStore.PART);
    ResponseBody body = response.body();
    long total = body.contentLength() < 0 ? -1 : offset + body.contentLength();
    String validator = "GET".equals(r.method()) ? validator(response) : null;
    if (validator == null && offset > 0) validator = earlierValidator;
    long written = offset;
    // Starting over: an older response.part.json must not vouch for bytes that are about to be replaced.
    if (offset == 0) Files.deleteIfExists(dir.resolve(RequestStore.PART_META));
    try (FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        InputStream in = body.byteStream()) {
      out.truncate(offset);
      out.position(offset);
      byte[] buffer = new byte[BUFFER];
      try {
        for (int n; (n = in.read(buffer)) != -1; ) {
          ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
          while (chunk.hasRemaining()) out.write(chunk);
          written += n;
          events.progress(new Progress(r.id(), Progress.Direction.DOWNLOAD, written, total));
        }
        store.files().syncFile(part);
      } catch (IOException e) {
        keepForResume(r.id(), out, validator, written);
        throw e;
      }
    }
    return written;
  }

  /** Remembers a cut-off GET body so the next attempt can ask for the rest; without a validator there is no resume. */
  private void keepForResume(String id, FileChannel out, String validator, long written) {
    try {
      if (validator == null || written == 0) {
        store.discardPartial(id);
        return;
      }
      out.force(true); // the recorded length must never exceed what is really on disk
      store.writePartial(id, new PartialDownload(validator, written));
    } catch (IOException e) {
      // Nothing lost: without response.part.json the next attempt simply starts from byte 0.
    }
  }

  /** A strong ETag, else Last-Modified: what {@code If-Range} accepts to mean "the same bytes as before". */
  private static String validator(Response response) {
    if (response.code() != 200 && response.code() != 206) return null;
    String etag = response.header("ETag");
    if (etag != null && !etag.startsWith("W/")) return etag;
    return response.header("Last-Modified");
  }

  private StoredResponse storedResponse(Response response, long offset, long length) {
    Map<String, List<String>> headers = new LinkedHashMap<>(response.headers().toMultimap());
    int code = response.code();
    if (offset > 0) {
      // Assembled from an earlier 200 and this 206: describe the whole body, as the original 200 would have.
      code = 200;
      headers.remove("content-range");
      headers.put("content-length", List.of(Long.toString(length)));
    }
    return new StoredResponse(code, response.message(), headers, length, clock.instant());
  }

  static String hostKey(String url) {
    okhttp3.HttpUrl u = okhttp3.HttpUrl.get(url);
    return u.host().toLowerCase(Locale.ROOT) + ":" + u.port();
  }

  private static final class MissingFileException extends Exception {
    MissingFileException(String message) {
      super(message);
    }
  }
}
