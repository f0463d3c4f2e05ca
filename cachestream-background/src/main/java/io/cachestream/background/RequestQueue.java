package io.cachestream.background;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the requests of one directory: the process holding {@code requests/.lock} has exactly one of these.
 *
 * <p>Like OkHttp's {@code Dispatcher}, it keeps ready requests per host and starts them while the global and per-host
 * limits allow. In memory it holds only ids and scheduling state; the request itself is read from disk when an attempt
 * starts, and every decision is written to {@code status.json} before it takes effect, so a crash at any point is
 * recovered by {@link #adopt}ing the directory again.
 *
 * <p>A host that cannot be reached (unknown host, refused, no route) is marked offline: its requests wait without
 * spending attempts, and one of them probes every {@link BackgroundOptions#offlineProbeInterval()}; the first answer
 * of any kind releases them all.
 */
final class RequestQueue {
  private static final Logger log = LoggerFactory.getLogger(RequestQueue.class);

  private final RequestStore store;
  private final BackgroundOptions options;
  private final CallRunner runner;
  private final Scheduler scheduler;
  private final Events events;
  private final Clock clock;
  private final ExecutorService executor;

  // Guarded by this.
  private final Map<String, Attempt> owned = new HashMap<>();
  /** Ids known to be final, so periodic rescans need not read their status again. */
  private final Set<String> settled = new HashSet<>();
  private final Map<String, Host> hosts = new HashMap<>();
  private final Set<Host> hostsWithReady = new LinkedHashSet<>();
  private int running;
  private boolean closed;

  /** Per {@code host:port} scheduling state; guarded by the queue's lock. */
  static final class Host {
    final String key;
    final ArrayDeque<Attempt> ready = new ArrayDeque<>();
    int running;
    boolean offline;
    boolean probeDue;
    Scheduler.Cancellable probe;

    Host(String key) {
      this.key = key;
    }
  }

  RequestQueue(RequestStore store, BackgroundOptions options, CallRunner runner, Scheduler scheduler, Events events) {
    this.store = store;
    this.options = options;
    this.runner = runner;
    this.scheduler = scheduler;
    this.events = events;
    this.clock = options.clock();
    AtomicInteger threads = new AtomicInteger();
    // Unbounded but idle-trimmed: promote() never starts more calls than maxConcurrency.
    this.executor =
        new ThreadPoolExecutor(
            0,
            Integer.MAX_VALUE,
            30,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            r -> {
              Thread t = new Thread(r, "cachestream-background-" + threads.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /** Takes over every request in the directory: the startup and lock-takeover path. */
  void adoptAll() throws IOException {
    store.removeLeftovers(clock.instant());
    for (String id : store.ids()) adopt(id, false);
  }

  /** Adopts requests whose file-system event was missed (or that arrived while events were unavailable). */
  void rescan() {
    try {
      for (String id : store.ids()) adopt(id, false);
    } catch (IOException e) {
      log.warn("rescan of {} failed", store.root(), e);
    }
  }

  /**
   * Starts owning {@code id} if it is in progress on disk and not owned yet. {@code fresh} means a file-system event
   * says the directory was just created, so a settled id with the same name was deleted and reused.
   */
  void adopt(String id, boolean fresh) {
    synchronized (this) {
      if (closed || owned.containsKey(id) || (settled.contains(id) && !fresh)) return;
    }
    StatusInfo status;
    try {
      status = store.readStatus(id);
    } catch (NoSuchFileException e) {
      return; // deleted meanwhile, or a directory that is not ours
    } catch (IOException e) {
      failUnreadable(id, "unreadable status.json: " + Failures.describe(e));
      return;
    }
    if (status.isFinal()) {
      synchronized (this) {
        settled.add(id);
      }
      return;
    }
    try {
      StoredRequest request = store.readRequest(id);
      submit(id, request.url(), status.nextAttemptAt());
    } catch (IOException | IllegalArgumentException e) {
      failUnreadable(id, "unreadable request.json: " + Failures.describe(e));
    }
  }

  /** Marks a request whose files cannot be read as failed, keeping whatever can still be known about it. */
  private void failUnreadable(String id, String reason) {
    log.warn("request {}: {}", id, reason);
    Instant now = clock.instant();
    String method = null;
    String url = null;
    int retries = 0;
    Instant created = now;
    try {
      StoredRequest r = store.readRequest(id);
      method = r.method();
      url = r.url();
      retries = r.retries();
      created = r.createdAt();
    } catch (IOException e) {
      // Status and request both unreadable: the status below is all that is left.
    }
    StatusInfo failed = new StatusInfo(id, RequestStatus.FAILED, method, url, 0, retries, created, now, null, reason);
    try {
      store.writeStatus(failed);
      synchronized (this) {
        settled.add(id);
      }
      events.status(failed);
    } catch (IOException e) {
      log.warn("request {}: cannot record failure", id, e);
    }
  }

  /** Owns a request and queues it, now or at {@code nextAttemptAt}. Ignored if already owned. */
  void submit(String id, String url, Instant nextAttemptAt) {
    Attempt a;
    synchronized (this) {
      if (closed || owned.containsKey(id)) return;
      settled.remove(id);
      a = new Attempt(id, hosts.computeIfAbsent(CallRunner.hostKey(url), Host::new));
      owned.put(id, a);
      Duration wait = nextAttemptAt == null ? Duration.ZERO : Duration.between(clock.instant(), nextAttemptAt);
      if (!wait.isNegative() && !wait.isZero()) {
        a.timer = scheduler.schedule(wait, () -> makeReady(a));
        return;
      }
      enqueueReady(a, false);
    }
    promote();
  }

  /** Forgets a deleted request. */
  synchronized void forget(String id) {
    settled.remove(id);
  }

  synchronized boolean owns(String id) {
    return owned.containsKey(id);
  }

  /**
   * Cancels an owned request: stops its timer or running call and writes the cancelled status.
   *
   * @return true if this wrote the cancelled status; false if the request is not owned here or already final
   */
  boolean cancel(String id) throws IOException {
    Attempt a;
    synchronized (this) {
      a = owned.get(id);
      if (a == null) return false;
      if (a.timer != null) a.timer.cancel();
      a.host.ready.remove(a);
    }
    a.cancel();
    StatusInfo current = store.readStatus(id);
    StatusInfo written =
        writeStatus(a, current.with(RequestStatus.CANCELLED, current.attempts(), clock.instant(), null, "cancelled"));
    return written != null;
  }

  /** Applies cancel markers left by other processes to requests owned here. */
  void applyCancelMarkers() {
    List<String> ids;
    synchronized (this) {
      ids = new ArrayList<>(owned.keySet());
    }
    for (String id : ids) {
      if (store.isCancelMarked(id)) {
        try {
          cancel(id);
        } catch (IOException e) {
          log.warn("request {}: cannot apply cancel marker", id, e);
        }
      }
    }
  }

  /** Stops starting calls and interrupts running ones without touching their status: the next queue resumes them. */
  void close() {
    List<Attempt> toStop;
    synchronized (this) {
      if (closed) return;
      closed = true;
      toStop = new ArrayList<>(owned.values());
      for (Attempt a : toStop) {
        if (a.timer != null) a.timer.cancel();
      }
      for (Host h : hosts.values()) {
        if (h.probe != null) h.probe.cancel();
      }
    }
    for (Attempt a : toStop) a.cancel();
    executor.shutdown();
    try {
      if (!executor.awaitTermination(10, TimeUnit.SECONDS)) log.warn("calls still running after close");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private synchronized boolean isClosed() {
    return closed;
  }

  // ---- scheduling (all under the lock) ----

  private void makeReady(Attempt a) {
    synchronized (this) {
      a.timer = null;
      if (closed || a.isCancelled() || !owned.containsKey(a.id)) return;
      enqueueReady(a, false);
    }
    promote();
  }

  private void enqueueReady(Attempt a, boolean front) {
    if (front) a.host.ready.addFirst(a);
    else a.host.ready.addLast(a);
    hostsWithReady.add(a.host);
  }

  private boolean canStart(Host h) {
    if (h.running >= options.maxConcurrencyPerHost()) return false;
    return !h.offline || (h.probeDue && h.running == 0);
  }

  /** Starts ready requests, one per host per round so a busy host cannot take every global slot. */
  private void promote() {
    List<Attempt> start = new ArrayList<>();
    synchronized (this) {
      if (closed) return;
      boolean progress = true;
      while (progress && running < options.maxConcurrency()) {
        progress = false;
        for (Iterator<Host> it = hostsWithReady.iterator(); it.hasNext() && running < options.maxConcurrency(); ) {
          Host h = it.next();
          if (h.ready.isEmpty()) { // emptied by a cancel
            it.remove();
            continue;
          }
          if (!canStart(h)) continue;
          Attempt a = h.ready.poll();
          if (h.ready.isEmpty()) it.remove();
          if (h.offline) h.probeDue = false; // this one is the probe
          h.running++;
          running++;
          a.running = true;
          start.add(a);
          progress = true;
        }
      }
    }
    for (Attempt a : start) {
      try {
        executor.execute(() -> run(a));
      } catch (RejectedExecutionException e) {
        return; // closing
      }
    }
  }

  private void hostReachable(Host h) {
    synchronized (this) {
      if (!h.offline) return;
      h.offline = false;
      h.probeDue = false;
      if (h.probe != null) h.probe.cancel();
      h.probe = null;
      log.info("host {} reachable again", h.key);
    }
    promote();
  }

  private synchronized void hostUnreachable(Host h) {
    if (!h.offline) log.info("host {} unreachable; its requests wait for the network", h.key);
    h.offline = true;
    if (h.probe == null && !closed) {
      h.probe =
          scheduler.schedule(
              options.offlineProbeInterval(),
              () -> {
                synchronized (this) {
                  h.probe = null;
                  h.probeDue = true;
                }
                promote();
              });
    }
  }

  /** What happens to a request after an attempt that did not end it. */
  private record Next(boolean requeue, Duration retryIn) {
    static final Next NOTHING = new Next(false, null);
    static final Next REQUEUE = new Next(true, null);
  }

  /**
   * Called when an attempt ends. The retry timer is only armed here, after the request stopped counting as running,
   * so even a zero delay cannot start it twice.
   */
  private void release(Attempt a, Next next) {
    synchronized (this) {
      a.running = false;
      a.host.running--;
      running--;
      if (a.finalWritten) {
        owned.remove(a.id);
        settled.add(a.id);
      } else if (closed || a.isCancelled()) {
        // The canceller or the next queue takes it from here.
      } else if (next.requeue()) {
        enqueueReady(a, true);
      } else if (next.retryIn() != null) {
        a.timer = scheduler.schedule(next.retryIn(), () -> makeReady(a));
      } else {
        // Neither final nor waiting: the directory vanished or a write failed. A rescan adopts it again if it is there.
        owned.remove(a.id);
      }
    }
    promote();
  }

  // ---- one attempt (on a worker thread) ----

  private void run(Attempt a) {
    Next next = Next.NOTHING;
    try {
      next = attempt(a);
    } catch (NoSuchFileException e) {
      log.debug("request {} deleted while running", a.id);
    } catch (IOException | RuntimeException e) {
      log.warn("request {}: attempt could not be recorded", a.id, e);
    } finally {
      release(a, next);
    }
  }

  private Next attempt(Attempt a) throws IOException {
    StatusInfo status = store.readStatus(a.id);
    if (status.isFinal()) {
      markFinal(a);
      return Next.NOTHING;
    }
    if (a.isCancelled() || store.isCancelMarked(a.id)) {
      writeStatus(a, status.with(RequestStatus.CANCELLED, status.attempts(), clock.instant(), null, "cancelled"));
      return Next.NOTHING;
    }
    StoredRequest request = store.readRequest(a.id);
    int attemptNo = status.attempts() + 1;
    boolean mayRetry = attemptNo <= request.retries();
    IntPredicate isFinal = code -> code < 400 || !(mayRetry && options.retryPolicy().retries(code));
    Attempt.Outcome outcome = runner.run(request, a, isFinal);
    if (a.isCancelled() || isClosed()) return Next.NOTHING; // the canceller wrote the status; a closing queue writes none
    Instant now = clock.instant();
    if (outcome instanceof Attempt.Answered answer) {
      hostReachable(a.host);
      String error = "HTTP " + answer.code() + (answer.message().isEmpty() ? "" : " " + answer.message());
      if (answer.saved()) {
        boolean ok = answer.code() < 400;
        writeStatus(a, status.with(ok ? RequestStatus.COMPLETED : RequestStatus.FAILED, attemptNo, now, null, ok ? null : error));
      } else {
        return retryLater(a, status, attemptNo, error, answer.retryAfter());
      }
    } else if (outcome instanceof Attempt.Failed failure) {
      String error = Failures.describe(failure.error());
      if (failure.unreachable()) {
        hostUnreachable(a.host);
        Instant probe = now.plus(options.offlineProbeInterval());
        writeStatus(a, status.with(RequestStatus.IN_PROGRESS, status.attempts(), now, probe, "waiting for network: " + error));
        return Next.REQUEUE;
      }
      hostReachable(a.host);
      if (mayRetry) {
        return retryLater(a, status, attemptNo, error, null);
      } else {
        writeStatus(a, status.with(RequestStatus.FAILED, attemptNo, now, null, error));
      }
    } else if (outcome instanceof Attempt.Unsendable unsendable) {
      writeStatus(a, status.with(RequestStatus.FAILED, attemptNo, now, null, unsendable.reason()));
    }
    return Next.NOTHING;
  }

  private Next retryLater(Attempt a, StatusInfo status, int attemptNo, String error, Duration retryAfter)
      throws IOException {
    Duration delay = retryAfter != null ? retryAfter : Backoff.delay(attemptNo, options.jitter());
    Instant now = clock.instant();
    StatusInfo written = writeStatus(a, status.with(RequestStatus.IN_PROGRESS, attemptNo, now, now.plus(delay), error));
    return written == null || written.isFinal() ? Next.NOTHING : new Next(false, delay);
  }

  private void markFinal(Attempt a) {
    synchronized (a) {
      a.finalWritten = true;
    }
    synchronized (this) {
      if (!a.running) {
        owned.remove(a.id);
        settled.add(a.id);
      }
    }
  }

  /**
   * The only way this queue writes a status. Serialized per request, so a call finishing after {@link #cancel} cannot
   * overwrite the cancelled status; and a cancel marker from another process turns any write into "cancelled".
   *
   * @return what was written, or null if the request was already final
   */
  private StatusInfo writeStatus(Attempt a, StatusInfo status) throws IOException {
    StatusInfo written = status;
    synchronized (a) {
      if (a.finalWritten) return null;
      if (written.status() != RequestStatus.CANCELLED && store.isCancelMarked(a.id)) {
        a.cancel();
        written = status.with(RequestStatus.CANCELLED, status.attempts(), status.updatedAt(), null, "cancelled");
      }
      store.writeStatus(written);
      if (written.isFinal()) a.finalWritten = true;
    }
    if (written.isFinal()) {
      synchronized (this) {
        if (!a.running) {
          owned.remove(a.id);
          settled.add(a.id);
        }
      }
    }
    events.status(written);
    return written;
  }
}
