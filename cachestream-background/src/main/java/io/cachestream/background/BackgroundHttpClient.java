package io.cachestream.background;

import io.cachestream.files.DurableFiles;
import io.cachestream.net.NoDelaySocketFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Predicate;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Durable HTTP requests that survive restarts, retry with backoff, wait out network outages and leave their responses
 * in files, to be picked up later by id.
 *
 * <pre>{@code
 * try (BackgroundHttpClient client = BackgroundHttpClient.open(dir, BackgroundOptions.defaults())) {
 *   RequestInfo info = client.post("https://api.example.com/items",
 *       RequestSpec.builder().body("{\"a\":1}").contentType("application/json").retries(3).build());
 *   ResponseInfo response = client.completion(info.id()).get();
 *   Files.readString(response.bodyFile());
 * }
 * }</pre>
 *
 * <p><b>Durability.</b> Every enqueue method returns only after the request (JSON and body) is on disk, fsynced and
 * renamed into place; from then on the request is run at least once to a final status, across crashes and restarts.
 * A request may be <em>sent</em> more than once (a crash after the origin got it but before its answer was saved, or a
 * retry after a timeout), which is why POST and PATCH carry an {@code Idempotency-Key} header that stays the same for
 * every attempt. See {@code README.md} for the file layout.
 *
 * <p><b>Processes.</b> Any number of clients, in any processes, may enqueue into the same directory; exactly one runs
 * the queue: the one holding the OS lock on {@code requests/.lock} ({@link #isRunningQueue()}). A client opened with
 * {@link #open} that finds the lock taken keeps trying to take it over, and meanwhile only enqueues and reads; one
 * opened with {@link #openEnqueueOnly} never runs the queue.
 *
 * <p><b>Threading.</b> All methods are thread-safe. Enqueue methods do blocking file I/O (a few fsyncs) and never
 * network I/O. Listeners and completion futures are called or completed on the client's own threads.
 *
 * <p><b>Errors.</b> Invalid arguments (URL, method, missing files, body on GET) throw {@link
 * IllegalArgumentException}; a duplicate request id throws {@link IllegalStateException}; disk problems throw {@link
 * IOException}; using a closed client throws {@link IllegalStateException}. Failures of the HTTP calls themselves
 * never throw: they are recorded in the request's status.
 */
public final class BackgroundHttpClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BackgroundHttpClient.class);
  private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
  private static final Set<String> NON_IDEMPOTENT = Set.of("POST", "PATCH");

  private final Path dir;
  private final BackgroundOptions options;
  private final RequestStore store;
  private final Events events;
  private final boolean mayRunQueue;
  private final OkHttpClient okHttp;
  private final boolean ownsOkHttp;
  private final Scheduler scheduler;
  private final ExecutorScheduler ownScheduler;
  private final Map<String, Queue<CompletableFuture<ResponseInfo>>> waiters = new ConcurrentHashMap<>();
  private final DirWatcher watcher;
  private final Object lifecycle = new Object();
  private volatile RequestQueue queue;
  private QueueLock lock; // guarded by lifecycle
  private volatile boolean closed;

  private BackgroundHttpClient(Path dir, BackgroundOptions options, boolean mayRunQueue) throws IOException {
    this.dir = dir;
    this.options = options;
    this.mayRunQueue = mayRunQueue;
    Path root = dir.resolve("requests");
    try {
      Files.createDirectories(root);
      // Creating the lock file doubles as the writability check: better to fail here than at the first enqueue.
      Files.newByteChannel(root.resolve(".lock"), java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE).close();
    } catch (IOException e) {
      throw new IOException("cannot use " + dir + " for background requests: " + Failures.describe(e), e);
    }
    this.store = new RequestStore(root, new DurableFiles(options.fsync()));
    this.events = new Events(options.listeners(), this::settle);
    this.ownsOkHttp = options.okHttpClient() == null;
    this.okHttp = ownsOkHttp
        ? new OkHttpClient.Builder().socketFactory(new NoDelaySocketFactory()).build()
        : options.okHttpClient();
    this.ownScheduler = options.scheduler() == null ? new ExecutorScheduler() : null;
    this.scheduler = ownScheduler != null ? ownScheduler : options.scheduler();
    try {
      if (mayRunQueue) tryRunQueue();
      this.watcher = new DirWatcher(root, options.rescanInterval(), this::onEntry, this::tick, this::waitsForOthers);
    } catch (IOException | RuntimeException e) {
      closeQueueAndResources();
      throw e;
    }
  }

  /**
   * Opens {@code dir} (created if missing) and, if no other process runs its queue, starts running it: requests that
   * were in progress are resumed, waiting out the rest of any persisted backoff. Requests with an unreadable status
   * are marked failed; the others run.
   *
   * @throws IOException if {@code dir} cannot be created or written
   */
  public static BackgroundHttpClient open(Path dir, BackgroundOptions options) throws IOException {
    return new BackgroundHttpClient(dir, options, true);
  }

  /** {@link #open(Path, BackgroundOptions)} with {@link BackgroundOptions#defaults()}. */
  public static BackgroundHttpClient open(Path dir) throws IOException {
    return open(dir, BackgroundOptions.defaults());
  }

  /**
   * Opens {@code dir} for enqueueing and reading only: requests are written for whichever process runs the queue (for
   * example {@code cachestream serve}) and this client never sends anything.
   */
  public static BackgroundHttpClient openEnqueueOnly(Path dir, BackgroundOptions options) throws IOException {
    return new BackgroundHttpClient(dir, options, false);
  }

  /** {@link #openEnqueueOnly(Path, BackgroundOptions)} with {@link BackgroundOptions#defaults()}. */
  public static BackgroundHttpClient openEnqueueOnly(Path dir) throws IOException {
    return openEnqueueOnly(dir, BackgroundOptions.defaults());
  }

  /** Whether some process (possibly this one) currently runs the queue of {@code dir}. */
  public static boolean isQueueRunning(Path dir) throws IOException {
    Path lockFile = dir.resolve("requests").resolve(".lock");
    return Files.exists(lockFile) && QueueLock.isHeld(lockFile);
  }

  /** The directory this client works in; requests live in its {@code requests/} subdirectory. */
  public Path dir() {
    return dir;
  }

  /** Whether this client holds the queue lock and sends requests. */
  public boolean isRunningQueue() {
    return queue != null;
  }

  // ---- enqueue ----

  /** Enqueues a GET with {@link RequestSpec#DEFAULT}. See {@link #send}. */
  public RequestInfo get(String url) throws IOException {
    return send("GET", url, RequestSpec.DEFAULT);
  }

  /** Enqueues a GET. See {@link #send}. */
  public RequestInfo get(String url, RequestSpec spec) throws IOException {
    return send("GET", url, spec);
  }

  /** Enqueues a HEAD; the saved response body is empty. See {@link #send}. */
  public RequestInfo head(String url, RequestSpec spec) throws IOException {
    return send("HEAD", url, spec);
  }

  /** Enqueues a DELETE (the HTTP method; to remove a stored request use {@link #delete(String)}). See {@link #send}. */
  public RequestInfo delete(String url, RequestSpec spec) throws IOException {
    return send("DELETE", url, spec);
  }

  /** Enqueues a POST, with an {@code Idempotency-Key} unless turned off. See {@link #send}. */
  public RequestInfo post(String url, RequestSpec spec) throws IOException {
    return send("POST", url, spec);
  }

  /** Enqueues a PUT. See {@link #send}. */
  public RequestInfo put(String url, RequestSpec spec) throws IOException {
    return send("PUT", url, spec);
  }

  /** Enqueues a PATCH, with an {@code Idempotency-Key} unless turned off. See {@link #send}. */
  public RequestInfo patch(String url, RequestSpec spec) throws IOException {
    return send("PATCH", url, spec);
  }

  /**
   * Enqueues a {@code multipart/form-data} POST. Files are not copied: they are streamed from their paths at every
   * attempt, so they must stay in place until the request is final (a file gone by then fails the request).
   *
   * @param fields text fields, in iteration order
   * @param files file parts by field name, in iteration order; each must be a readable regular file now
   * @param spec headers, query, timeout, id and retries; must not have a body
   * @throws IllegalArgumentException if a file does not exist or the spec has a body
   */
  public RequestInfo postMultipart(String url, Map<String, String> fields, Map<String, Path> files, RequestSpec spec)
      throws IOException {
    if (spec.hasBody()) throw new IllegalArgumentException("a multipart request takes no other body");
    List<StoredRequest.NameValue> storedFields = new ArrayList<>();
    fields.forEach((k, v) -> storedFields.add(new StoredRequest.NameValue(k, v)));
    List<StoredRequest.FormFile> storedFiles = new ArrayList<>();
    for (Map.Entry<String, Path> f : files.entrySet()) {
      Path path = f.getValue().toAbsolutePath();
      if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
        throw new IllegalArgumentException("multipart file '" + f.getKey() + "' does not exist or is unreadable: " + path);
      }
      String type = Optional.ofNullable(Files.probeContentType(path)).orElse("application/octet-stream");
      storedFiles.add(new StoredRequest.FormFile(f.getKey(), path.toString(), path.getFileName().toString(), type));
    }
    return enqueue("POST", url, spec, storedFields, storedFiles);
  }

  /**
   * Enqueues a request with any of GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS (case-insensitive). The other
   * enqueue methods are shorthands for this one.
   *
   * @return the id and directory, once the request is durably stored
   * @throws IllegalArgumentException for an unknown method, a URL that is not absolute http(s), or a body on GET/HEAD
   * @throws IllegalStateException if {@code spec.id()} is already used in this directory
   * @throws IOException if the request cannot be written
   */
  public RequestInfo send(String method, String url, RequestSpec spec) throws IOException {
    return enqueue(method, url, spec, null, null);
  }

  private RequestInfo enqueue(
      String method,
      String url,
      RequestSpec spec,
      List<StoredRequest.NameValue> formFields,
      List<StoredRequest.FormFile> formFiles)
      throws IOException {
    checkOpen();
    String m = method.toUpperCase(Locale.ROOT);
    if (!METHODS.contains(m)) throw new IllegalArgumentException("unsupported method '" + method + "'");
    HttpUrl parsed = HttpUrl.parse(url);
    if (parsed == null) throw new IllegalArgumentException("not an absolute http or https URL: '" + url + "'");
    if (spec.hasBody() && (m.equals("GET") || m.equals("HEAD"))) {
      throw new IllegalArgumentException(m + " requests cannot have a body");
    }
    HttpUrl.Builder withQuery = parsed.newBuilder();
    spec.query().forEach(q -> withQuery.addQueryParameter(q.getKey(), q.getValue()));
    String fullUrl = withQuery.build().toString();

    String id = spec.id() != null ? spec.id() : UUID.randomUUID().toString();
    Instant now = options.clock().instant();
    List<StoredRequest.NameValue> headers = new ArrayList<>();
    spec.headers().forEach(h -> headers.add(new StoredRequest.NameValue(h.getKey(), h.getValue())));
    boolean userKey = headers.stream().anyMatch(h -> h.name().equalsIgnoreCase("Idempotency-Key"));
    String idempotencyKey =
        options.idempotencyKeys() && NON_IDEMPOTENT.contains(m) && !userKey ? idempotencyKey(id, now) : null;
    long timeout = (spec.timeout() != null ? spec.timeout() : options.defaultTimeout()).toMillis();
    StoredRequest request =
        new StoredRequest(
            StoredRequest.VERSION, id, m, fullUrl, headers, spec.hasBody(), spec.contentType(), formFields, formFiles,
            timeout, spec.retries(), idempotencyKey, now);
    StatusInfo status = new StatusInfo(id, RequestStatus.IN_PROGRESS, m, fullUrl, 0, spec.retries(), now, now, null, null);

    Path requestDir = store.create(request, status, spec.bodyFile(), spec.bodyBytes());
    events.status(status);
    RequestQueue q = queue;
    if (q != null) q.submit(id, fullUrl, null);
    return new RequestInfo(id, requestDir);
  }

  /**
   * The key sent as {@code Idempotency-Key}: a name-based UUID of the id and creation time, so it is the same for every
   * attempt of a request (even across restarts) yet differs if an id is deleted and reused.
   */
  private static String idempotencyKey(String id, Instant createdAt) {
    return UUID.nameUUIDFromBytes((id + "@" + createdAt).getBytes(StandardCharsets.UTF_8)).toString();
  }

  // ---- read ----

  /** The request's current status, read from its {@code status.json}; empty if there is no such request. */
  public Optional<StatusInfo> status(String id) {
    return RequestSpec.isValidId(id) ? store.status(id) : Optional.empty();
  }

  /**
   * The saved response of a finished request: present once the status is {@link RequestStatus#COMPLETED}, or {@link
   * RequestStatus#FAILED} after the origin answered with an error. Empty while in progress, so a reader never sees a
   * response that a retry might still replace.
   */
  public Optional<ResponseInfo> response(String id) throws IOException {
    Optional<StatusInfo> status = status(id);
    if (status.isEmpty() || status.get().status() == RequestStatus.IN_PROGRESS) return Optional.empty();
    return store.readResponse(id)
        .map(r -> new ResponseInfo(id, r.statusCode(), r.headers(), store.dir(id).resolve(RequestStore.RESPONSE_BODY), r.bodyLength()));
  }

  /** Every request whose status matches {@code filter}, oldest first. Unreadable requests are skipped. */
  public List<StatusInfo> list(Predicate<StatusInfo> filter) throws IOException {
    List<StatusInfo> result = new ArrayList<>();
    for (String id : store.ids()) store.status(id).filter(filter).ifPresent(result::add);
    result.sort(Comparator.comparing(StatusInfo::createdAt).thenComparing(StatusInfo::id));
    return result;
  }

  /** Every request, oldest first. */
  public List<StatusInfo> list() throws IOException {
    return list(s -> true);
  }

  /**
   * A future for the end of the request: completed with the response when the request completes; completed
   * exceptionally with {@link RequestFailedException} when it fails, {@link CancellationException} when it is
   * cancelled and {@link NoSuchElementException} if there is no such request (or it is deleted while waited for).
   * Works for requests run by another process too (by polling their status file).
   */
  public CompletableFuture<ResponseInfo> completion(String id) {
    CompletableFuture<ResponseInfo> future = new CompletableFuture<>();
    if (!RequestSpec.isValidId(id)) {
      future.completeExceptionally(missing(id));
      return future;
    }
    waiters.computeIfAbsent(id, k -> new ConcurrentLinkedQueue<>()).add(future);
    // Checked after registering, so a status written in between is seen by us or by the event; completing directly
    // covers an event that removed the waiter list just before our future joined it.
    Optional<StatusInfo> status = status(id);
    if (status.isEmpty()) {
      if (!store.exists(id)) {
        future.completeExceptionally(missing(id));
        settleMissing(id);
      }
    } else if (status.get().isFinal()) {
      complete(List.of(future), status.get());
      settle(status.get());
    }
    return future;
  }

  // ---- change ----

  /**
   * Cancels a request in progress: a pending retry or network wait is called off and a running call is aborted. A
   * cancelled request is never attempted again, even if another process runs the queue.
   *
   * @return true if the request was in progress and is now cancelled; false if it does not exist or was already final
   */
  public boolean cancel(String id) throws IOException {
    checkOpen();
    Optional<StatusInfo> status = status(id);
    if (status.isEmpty() || status.get().isFinal()) return false;
    if (!store.markCancelled(id)) return false;
    RequestQueue q = queue;
    if (q != null && q.owns(id)) return q.cancel(id);
    // Not ours: record it ourselves. If the queue's process writes a later status, it sees the marker and writes
    // "cancelled" instead; readers see "cancelled" as soon as the marker exists.
    StatusInfo current = store.readStatus(id);
    if (current.isFinal()) return current.status() == RequestStatus.CANCELLED;
    StatusInfo cancelled = current.with(RequestStatus.CANCELLED, current.attempts(), options.clock().instant(), null, "cancelled");
    store.writeStatus(cancelled);
    events.status(cancelled);
    return true;
  }

  /**
   * Deletes a request and its files, cancelling it first if it is in progress.
   *
   * @return false if there was no such request
   */
  public boolean delete(String id) throws IOException {
    checkOpen();
    if (!RequestSpec.isValidId(id) || !store.exists(id)) return false;
    cancel(id);
    boolean deleted = store.delete(id);
    RequestQueue q = queue;
    if (q != null) q.forget(id);
    settleMissing(id);
    return deleted;
  }

  /**
   * Deletes finished (completed, failed or cancelled) requests last updated more than {@code maxAge} ago, then the
   * oldest finished ones beyond the newest {@code maxCount}. Requests in progress are never touched.
   *
   * @return how many requests were deleted
   */
  public int cleanup(Duration maxAge, int maxCount) throws IOException {
    checkOpen();
    if (maxCount < 0) throw new IllegalArgumentException("maxCount must not be negative, got " + maxCount);
    Instant cutoff = options.clock().instant().minus(maxAge);
    List<StatusInfo> finished = new ArrayList<>(list(StatusInfo::isFinal));
    finished.sort(Comparator.comparing(StatusInfo::updatedAt).reversed());
    int deleted = 0;
    for (int i = 0; i < finished.size(); i++) {
      StatusInfo s = finished.get(i);
      if ((i >= maxCount || s.updatedAt().isBefore(cutoff)) && delete(s.id())) deleted++;
    }
    return deleted;
  }

  /** Adds a listener for requests this client runs (see {@link BackgroundListener} for the threading contract). */
  public void addListener(BackgroundListener listener) {
    events.add(listener);
  }

  /** Removes a listener added with {@link #addListener} or the options. */
  public void removeListener(BackgroundListener listener) {
    events.remove(listener);
  }

  /**
   * Stops the client: running calls are aborted without a verdict (they stay in progress and the next queue runner
   * sends them again), the queue lock is released and pending completion futures are left incomplete. Idempotent.
   */
  @Override
  public void close() throws IOException {
    synchronized (lifecycle) {
      if (closed) return;
      closed = true;
    }
    watcher.close();
    closeQueueAndResources();
  }

  private void closeQueueAndResources() throws IOException {
    RequestQueue q = queue;
    if (q != null) q.close();
    synchronized (lifecycle) {
      closed = true;
      if (lock != null) lock.close();
      lock = null;
    }
    if (ownScheduler != null) ownScheduler.close();
    if (ownsOkHttp) {
      okHttp.dispatcher().executorService().shutdown();
      okHttp.connectionPool().evictAll();
    }
  }

  // ---- internals ----

  private void checkOpen() {
    if (closed) throw new IllegalStateException("client is closed");
  }

  /** Takes the queue lock if free and, if so, starts running the queue. */
  private void tryRunQueue() throws IOException {
    synchronized (lifecycle) {
      if (closed || queue != null) return;
      lock = QueueLock.tryAcquire(store.root().resolve(".lock"));
      if (lock == null) return;
      RequestQueue q = new RequestQueue(store, options, new CallRunner(okHttp, store, events, options.clock()), scheduler, events);
      queue = q;
      q.adoptAll();
      log.debug("running the background request queue of {}", dir);
    }
  }

  private void onEntry(String id, boolean created) {
    RequestQueue q = queue;
    if (q == null) return;
    if (created) q.adopt(id, true);
    else q.forget(id);
  }

  /** Periodic work on the watcher thread. */
  private void tick() {
    try {
      if (mayRunQueue && queue == null) tryRunQueue();
    } catch (IOException e) {
      log.warn("cannot take over the queue of {}", dir, e);
    }
    RequestQueue q = queue;
    if (q != null) {
      q.rescan();
      q.applyCancelMarkers();
    }
    for (String id : waiters.keySet()) {
      if (q != null && q.owns(id)) continue; // our own events will settle it; no need to read its file
      Optional<StatusInfo> status = status(id);
      if (status.isEmpty()) settleMissing(id);
      else if (status.get().isFinal()) settle(status.get());
    }
  }

  /** Whether someone waits for a request that another process runs: then its status file is polled more often. */
  private boolean waitsForOthers() {
    return queue == null && !waiters.isEmpty();
  }

  /** Completes the futures waiting for a request that reached a final status. */
  private void settle(StatusInfo status) {
    Queue<CompletableFuture<ResponseInfo>> futures = waiters.remove(status.id());
    if (futures != null) complete(futures, status);
  }

  private void complete(Iterable<CompletableFuture<ResponseInfo>> futures, StatusInfo status) {
    Optional<ResponseInfo> response;
    try {
      response = response(status.id());
    } catch (IOException e) {
      futures.forEach(f -> f.completeExceptionally(e));
      return;
    }
    for (CompletableFuture<ResponseInfo> f : futures) {
      switch (status.status()) {
        case COMPLETED -> {
          if (response.isPresent()) f.complete(response.get());
          else f.completeExceptionally(new IOException("request " + status.id() + " completed but its response is missing"));
        }
        case FAILED -> f.completeExceptionally(new RequestFailedException(status, response.orElse(null)));
        default -> f.completeExceptionally(new CancellationException("request " + status.id() + " was cancelled"));
      }
    }
  }

  private void settleMissing(String id) {
    if (store.exists(id)) return;
    Queue<CompletableFuture<ResponseInfo>> futures = waiters.remove(id);
    if (futures != null) futures.forEach(f -> f.completeExceptionally(missing(id)));
  }

  private static NoSuchElementException missing(String id) {
    return new NoSuchElementException("no request with id '" + id + "'");
  }

  @Override
  public String toString() {
    return "BackgroundHttpClient{" + dir + (isRunningQueue() ? ", running queue" : "") + "}";
  }
}
