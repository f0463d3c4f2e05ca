package io.cachestream.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The real daemon, started through {@code bin/cachestream} (the built jar) as its own process. */
final class Daemon implements AutoCloseable {
  static final Path REPO = Path.of(System.getProperty("user.dir")).getParent();

  final Process process;
  final String baseUrl;
  /** Everything the daemon logged so far. */
  final StringBuffer stderr;

  private Daemon(Process process, String baseUrl, StringBuffer stderr) {
    this.process = process;
    this.baseUrl = baseUrl;
    this.stderr = stderr;
  }

  /** Starts {@code bin/cachestream serve --port 0 --cache-dir dir ...} and waits for its "Serving on" line. */
  static Daemon start(Path cacheDir, String... extra) throws IOException {
    List<String> command = new ArrayList<>(List.of(REPO.resolve("bin/cachestream").toString(), "serve", "--port", "0",
        "--cache-dir", cacheDir.toString()));
    command.addAll(List.of(extra));
    Process p = new ProcessBuilder(command).start();
    StringBuffer err = new StringBuffer();
    CompletableFuture.runAsync(() -> drain(p, err));
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> {
      try {
        String line;
        while ((line = out.readLine()) != null) {
          if (line.startsWith("Serving on ")) {
            return line.substring("Serving on ".length()).replaceAll("/$", "");
          }
        }
        return null;
      } catch (IOException e) {
        return null;
      }
    });
    String base;
    try {
      base = ready.get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      base = null;
    }
    if (base == null) {
      p.destroyForcibly();
      throw new IOException("daemon did not start: " + err);
    }
    CompletableFuture.runAsync(() -> {
      try {
        out.transferTo(java.io.Writer.nullWriter());
      } catch (IOException ignored) {
        // Process ended.
      }
    });
    return new Daemon(p, base, err);
  }

  private static void drain(Process p, StringBuffer sink) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        sink.append(line).append('\n');
      }
    } catch (IOException ignored) {
      // Process ended.
    }
  }

  String proxyUrl(String originUrl) {
    return baseUrl + "/" + originUrl.replaceFirst("://", "/");
  }

  /** SIGTERM, then the exit code. */
  int terminate() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      return -1;
    }
    return process.exitValue();
  }

  /** SIGKILL: a crash. */
  void kill() throws InterruptedException {
    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      terminate();
    }
  }
}
