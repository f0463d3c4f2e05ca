package io.cachestream.cli;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real nginx serving {@code www/} on a free loopback port, in the foreground as the current user, with an access
 * log of body bytes sent per request; {@code /slow/} and {@code /slower/} are the same files rate-limited to 8 and
 * 2 MB/s.
 */
final class NginxOrigin implements AutoCloseable {
  final Path root;
  final Path www;
  final Path accessLog;
  final int port;
  private Process process;

  NginxOrigin(Path root) throws IOException {
    this.root = root;
    this.www = Files.createDirectories(root.resolve("www"));
    this.accessLog = root.resolve("access.log");
    this.port = freePort();
    Files.createDirectories(root.resolve("tmp"));
    String conf = """
        daemon off;
        master_process off;
        pid %1$s/nginx.pid;
        error_log %1$s/error.log warn;
        events { worker_connections 1024; }
        http {
          types { video/mp4 mp4; application/octet-stream bin; }
          default_type application/octet-stream;
          log_format bytes '$request_method $uri $status $body_bytes_sent';
          access_log %1$s/access.log bytes;
          client_body_temp_path %1$s/tmp; proxy_temp_path %1$s/tmp; fastcgi_temp_path %1$s/tmp;
          uwsgi_temp_path %1$s/tmp; scgi_temp_path %1$s/tmp;
          server {
            listen 127.0.0.1:%2$d;
            root %1$s/www;
            location /slow/ { alias %1$s/www/; limit_rate 8m; }
            location /slower/ { alias %1$s/www/; limit_rate 2m; }
          }
        }
        """.formatted(root, port);
    Files.writeString(root.resolve("nginx.conf"), conf);
    start();
  }

  void start() throws IOException {
    String nginx = Files.isExecutable(Path.of("/usr/sbin/nginx")) ? "/usr/sbin/nginx" : "nginx";
    process = new ProcessBuilder(nginx, "-c", root.resolve("nginx.conf").toString(), "-p", root.toString())
        .redirectErrorStream(true)
        .redirectOutput(root.resolve("nginx.out").toFile())
        .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (Socket ignored = new Socket("127.0.0.1", port)) {
        return;
      } catch (IOException notYet) {
        if (!process.isAlive()) {
          throw new IOException("nginx exited: " + Files.readString(root.resolve("nginx.out")));
        }
        sleep(20);
      }
    }
    throw new IOException("nginx did not start listening on " + port);
  }

  /** Stops nginx by its PID and waits until it is gone. */
  void stop() {
    if (process != null && process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  /** Body bytes nginx sent for {@code uri} so far (completed requests only). */
  long bytesSent(String uri) throws IOException {
    if (!Files.exists(accessLog)) {
      return 0;
    }
    long sum = 0;
    List<String> lines = Files.readAllLines(accessLog, StandardCharsets.UTF_8);
    for (String line : lines) {
      String[] f = line.split(" ");
      if (f.length == 4 && f[1].equals(uri)) {
        sum += Long.parseLong(f[3]);
      }
    }
    return sum;
  }

  long requestCount(String uri) throws IOException {
    if (!Files.exists(accessLog)) {
      return 0;
    }
    return Files.readAllLines(accessLog).stream().filter(l -> l.split(" ").length == 4 && l.split(" ")[1].equals(uri))
        .count();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stop();
  }
}
