package io.cachestream.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The CacheStream daemon as its own process, started as users start it: {@code bin/cachestream serve --port P
 * --cache-dir D ...} (the launcher {@code exec}s the JVM, so the process is the daemon).
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
   * Lays out a private copy of the launcher and the jar under {@code dir} ({@code bin/cachestream},
   * {@code cachestream-cli/target/cachestream.jar}), so that a rebuild during the run cannot change the daemons, and
   * records the jar's class-data archive next to it as {@code mvn package} does (an archive serves only the jar path
   * it was recorded with). Returns the launcher.
   */
  static Path install(Path jar, Path dir) throws IOException, InterruptedException {
    Path launcher = jar.toAbsolutePath().getParent().getParent().getParent().resolve("bin").resolve("cachestream");
    if (!Files.isExecutable(launcher)) {
      throw new IOException("no launcher at " + launcher);
    }
    Path target = Files.createDirectories(dir.resolve("cachestream-cli").resolve("target"));
    Path copy = Files.copy(jar, target.resolve("cachestream.jar"));
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Files.copy(launcher, bin.resolve("cachestream"), StandardCopyOption.COPY_ATTRIBUTES);
    Procs.run(Duration.ofSeconds(60), Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:ArchiveClassesAtExit=" + target.resolve("cachestream.jsa"), "-Xlog:disable", "-Xlog:all=error:stderr",
        "-cp", copy.toString(), "io.cachestream.cli.ClassDataTraining").check("class-data training run");
    return bin.resolve("cachestream");
  }

  static CsDaemon start(String name, Path launcher, Path cacheDir, Path log, int originPort, List<String> extra)
      throws IOException {
    int port = Nginx.freePort();
    List<String> command = new ArrayList<>(List.of(launcher.toString(), "serve", "--port", Integer.toString(port),
        "--cache-dir", cacheDir.toString()));
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
    Procs.stop(process, Duration.ofSeconds(20));
  }

  @Override
  public void close() {
    stop();
  }
}
