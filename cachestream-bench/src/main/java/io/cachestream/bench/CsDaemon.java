package io.cachestream.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The CacheStream daemon as its own process, started the way {@code bin/cachestream} starts it: {@code java
 * -XX:SharedArchiveFile=cachestream.jsa -jar cachestream.jar serve --port P --cache-dir D ...}.
 */
final class CsDaemon implements AutoCloseable {
  final String name;
  final Process process;
  final int port;
  final int originPort;
  /** Nanoseconds from just before the process was started to its {@code Serving on} line. */
  final long readyNanos;
  final long startNanos;
  final Path log;

  private CsDaemon(String name, Process process, int port, int originPort, long startNanos, long readyNanos,
      Path log) {
    this.name = name;
    this.process = process;
    this.port = port;
    this.originPort = originPort;
    this.startNanos = startNanos;
    this.readyNanos = readyNanos;
    this.log = log;
  }

  /**
   * Records the class-data archive of {@code jar} next to it, as {@code mvn package} does for {@code bin/cachestream}
   * (an archive only serves the jar path it was recorded with, and the bench runs a copy of the jar).
   */
  static Path recordClassData(Path jar) throws IOException, InterruptedException {
    Path archive = jar.resolveSibling("cachestream.jsa");
    Procs.run(java.time.Duration.ofSeconds(60), java(), "-XX:ArchiveClassesAtExit=" + archive, "-Xlog:disable",
        "-Xlog:all=error:stderr", "-cp", jar.toString(), "io.cachestream.cli.ClassDataTraining")
        .check("class-data training run");
    return archive;
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  static CsDaemon start(String name, Path jar, Path classData, Path cacheDir, Path log, int originPort,
      List<String> extra) throws IOException {
    int port = Nginx.freePort();
    List<String> command = new ArrayList<>(List.of(java(), "-XX:SharedArchiveFile=" + classData, "-Xlog:disable",
        "-Xlog:all=warning:stderr", "-jar", jar.toString(), "serve", "--port", Integer.toString(port), "--cache-dir",
        cacheDir.toString()));
    command.addAll(extra);
    long t0 = System.nanoTime();
    Process p = Procs.start(new ProcessBuilder(command).redirectError(log.toFile()));
    CompletableFuture<Long> ready = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = out.readLine()) != null) {
          if (line.startsWith("Serving on ")) {
            ready.complete(System.nanoTime());
          }
        }
      } catch (IOException ignored) {
        // The process ended.
      }
      ready.complete(-1L);
    }, "stdout-" + name);
    reader.setDaemon(true);
    reader.start();
    long readyAt;
    try {
      readyAt = ready.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      readyAt = -1;
    }
    if (readyAt < 0) {
      Procs.stop(p);
      throw new IOException("CacheStream " + name + " did not start: " + Procs.tail(Files.readString(log)));
    }
    return new CsDaemon(name, p, port, originPort, t0, readyAt - t0, log);
  }

  /** The proxy URL of {@code path} on the origin. */
  String url(String path) {
    return "http://127.0.0.1:" + port + "/http/127.0.0.1:" + originPort + path;
  }

  String base() {
    return "http://127.0.0.1:" + port;
  }

  long pid() {
    return process.pid();
  }

  void stop() {
    Procs.stop(process, java.time.Duration.ofSeconds(20));
  }

  @Override
  public void close() {
    stop();
  }
}
