package io.cachestream.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Every process the benchmark starts goes through here, so that each one is stopped by its PID: at the end of its
 * scenario, in the {@code finally} of the run, and by a shutdown hook if the JVM goes down another way.
 */
final class Procs {
  private static final List<Process> LIVE = new ArrayList<>();

  private Procs() {}

  /** Starts {@code pb} with a proxy-free environment and registers the process. */
  static Process start(ProcessBuilder pb) throws IOException {
    // Loopback only: no HTTP proxy from the environment may redirect curl or ffmpeg elsewhere.
    for (String name : List.of("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")) {
      pb.environment().remove(name);
    }
    pb.environment().put("no_proxy", "*");
    Process p = pb.start();
    synchronized (LIVE) {
      LIVE.add(p);
    }
    return p;
  }

  /**
   * CPU time, in nanoseconds, that each thread of process {@code pid} and its descendants has run so far, by thread
   * id: every thread's {@code schedstat}, which counts to the nanosecond where {@code /proc/PID/stat} counts in 10 ms
   * ticks. Empty once the process is gone.
   */
  static Map<Long, Long> threadCpuNanos(long pid) throws IOException {
    List<Long> pids = new ArrayList<>(List.of(pid));
    ProcessHandle.of(pid).ifPresent(p -> p.descendants().forEach(d -> pids.add(d.pid())));
    Map<Long, Long> byThread = new HashMap<>();
    for (long p : pids) {
      try (Stream<Path> tasks = Files.list(Path.of("/proc/" + p + "/task"))) {
        for (Path task : tasks.toList()) {
          try {
            long nanos = Long.parseLong(Files.readString(task.resolve("schedstat")).trim().split(" ")[0]);
            byThread.put(Long.parseLong(task.getFileName().toString()), nanos);
          } catch (NoSuchFileException gone) {
            // The thread ended since it was listed.
          }
        }
      } catch (NoSuchFileException gone) {
        // The process exited since it was listed.
      }
    }
    return byThread;
  }

  /**
   * CPU nanoseconds that the threads of {@code now} ran since {@code before} (both from {@link #threadCpuNanos}); a
   * thread that ended in between is not counted, one that started is counted whole.
   */
  static long cpuNanosBetween(Map<Long, Long> before, Map<Long, Long> now) {
    long sum = 0;
    for (Map.Entry<Long, Long> thread : now.entrySet()) {
      sum += thread.getValue() - before.getOrDefault(thread.getKey(), 0L);
    }
    return sum;
  }

  /**
   * The threads of {@code now} that ran at least {@code minNanos} since {@code before} (both from
   * {@link #threadCpuNanos}), busiest first, as "name ms" pairs: "C2 CompilerThre 40.1, cachestream-ser 10.2". Names
   * are the kernel's ({@code comm}, the first 15 characters of a Java thread's name); threads of one name are summed.
   * Says which part of a server (its JIT compiler, its collector, its event loops) ran during a measurement.
   */
  static String busiestThreads(Map<Long, Long> before, Map<Long, Long> now, long minNanos) throws IOException {
    Map<String, Long> byName = new HashMap<>();
    for (Map.Entry<Long, Long> thread : now.entrySet()) {
      long nanos = thread.getValue() - before.getOrDefault(thread.getKey(), 0L);
      if (nanos > 0) {
        byName.merge(threadName(thread.getKey()), nanos, Long::sum);
      }
    }
    return byName.entrySet().stream()
        .filter(e -> e.getValue() >= minNanos)
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .map(e -> String.format(Locale.ROOT, "%s %.1f", e.getKey(), e.getValue() / 1e6))
        .collect(Collectors.joining(", "));
  }

  /** The kernel's name of thread {@code tid} ({@code /proc/TID/comm} works for any thread id), or "?" once gone. */
  private static String threadName(long tid) throws IOException {
    try {
      return Files.readString(Path.of("/proc/" + tid + "/comm")).trim();
    } catch (NoSuchFileException gone) {
      return "?";
    }
  }

  /** Whether an executable {@code tool} is in one of the {@code PATH} directories. */
  static boolean onPath(String tool) {
    return Stream.of(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
  }

  /** SIGTERM to the PID, then SIGKILL if it has not exited within {@code grace}; waits until it is gone. */
  static void stop(Process p, Duration grace) {
    if (p == null) {
      return;
    }
    try {
      if (p.isAlive()) {
        p.destroy();
        if (!p.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
          p.destroyForcibly();
          p.waitFor(10, TimeUnit.SECONDS);
        }
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    } finally {
      synchronized (LIVE) {
        LIVE.remove(p);
      }
    }
  }

  static void stop(Process p) {
    stop(p, Duration.ofSeconds(10));
  }

  /** Stops every process still registered, newest first. */
  static void stopAll() {
    List<Process> copy;
    synchronized (LIVE) {
      copy = new ArrayList<>(LIVE);
    }
    for (int i = copy.size() - 1; i >= 0; i--) {
      stop(copy.get(i), Duration.ofSeconds(5));
    }
  }

  /** The output of a finished command. */
  record Result(int exit, String out, String err, double seconds) {
    Result check(String what) {
      if (exit != 0) {
        throw new IllegalStateException(what + " exited " + exit + ": " + tail(err.isBlank() ? out : err));
      }
      return this;
    }
  }

  /** Runs a command to its end (killed after {@code timeout}) and captures its output. */
  static Result run(Duration timeout, List<String> command) throws IOException, InterruptedException {
    long t0 = System.nanoTime();
    Process p = start(new ProcessBuilder(command));
    p.getOutputStream().close();
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> slurp(p.getInputStream()));
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> slurp(p.getErrorStream()));
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s: " + String.join(" ", command));
      }
    } finally {
      stop(p);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    return new Result(p.exitValue(), out.join(), err.join(), seconds);
  }

  static Result run(Duration timeout, String... command) throws IOException, InterruptedException {
    return run(timeout, List.of(command));
  }

  private static String slurp(InputStream in) {
    try (in) {
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      in.transferTo(buf);
      return buf.toString(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String tail(String s) {
    String t = s.strip();
    return t.length() > 600 ? "…" + t.substring(t.length() - 600) : t;
  }
}
