package io.cachestream.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real nginx in the foreground ({@code daemon off; master_process off;}: one process, whose PID is the one we
 * started) with a generated config in its own directory, listening on a free loopback port. Two roles: the
 * origin, and the caching proxy peer.
 */
final class Nginx implements AutoCloseable {
  final String name;
  final Path root;
  final int port;
  final Path accessLog;
  private Process process;

  private Nginx(String name, Path root, int port) {
    this.name = name;
    this.root = root;
    this.port = port;
    this.accessLog = root.resolve("access.log");
  }

  static String binary() {
    return Files.isExecutable(Path.of("/usr/sbin/nginx")) ? "/usr/sbin/nginx" : "nginx";
  }

  private static String common(Path root, String name) {
    return """
        daemon off;
        master_process off;
        pid %1$s/nginx.pid;
        error_log %1$s/error.log warn;
        worker_rlimit_nofile 65536;
        events { worker_connections 16384; }
        """.formatted(root, name);
  }

  private static String tempPaths(Path root) {
    return "client_body_temp_path %1$s/tmp; proxy_temp_path %1$s/tmp; fastcgi_temp_path %1$s/tmp;\n"
        .formatted(root) + "  uwsgi_temp_path %1$s/tmp; scgi_temp_path %1$s/tmp;\n".formatted(root);
  }

  /**
   * The origin: serves {@code www} at full speed, and rate-limited under {@code /r50/}, {@code /r20/} and
   * {@code /r1/} (50, 20 and 1 MiB/s per connection; nginx lets the first second's worth out at once, as its
   * allowance is {@code rate × (whole seconds since the request started + 1)}). Every request's {@code $uri $status $body_bytes_sent} goes to its access
   * log. {@code keepalive_timeout 0}: each connection carries one request, so "no established connection" means
   * "every transfer is logged". Static files ignore the query string, so {@code ?run=N} makes a fresh cache key.
   */
  static Nginx origin(Path root, Path www) throws IOException {
    Nginx n = new Nginx("origin", root, freePort());
    Files.createDirectories(root.resolve("tmp"));
    String conf = common(root, n.name) + """
        http {
          types { video/mp4 mp4; application/octet-stream bin; }
          default_type application/octet-stream;
          log_format bytes '$uri $status $body_bytes_sent';
          access_log %1$s/access.log bytes;
          keepalive_timeout 0;
          sendfile on;
          tcp_nopush on;
          %3$s
          server {
            listen 127.0.0.1:%2$d;
            root %4$s;
            location /r50/ { alias %4$s/; limit_rate 50m; }
            location /r20/ { alias %4$s/; limit_rate 20m; }
            location /r1/ { alias %4$s/; limit_rate 1m; }
          }
        }
        """.formatted(root, n.port, tempPaths(root), www);
    n.start(conf);
    return n;
  }

  /**
   * The peer: nginx as a caching proxy in front of the origin, the way nginx caches large media: {@code slice 1m}
   * with the slice range in the cache key and the upstream {@code Range}, {@code proxy_cache_valid 200 206},
   * buffering on, and {@code proxy_cache_lock} so concurrent clients of one slice cause one upstream fetch.
   */
  static Nginx proxy(Path root, int originPort) throws IOException {
    Nginx n = new Nginx("proxy", root, freePort());
    Files.createDirectories(root.resolve("tmp"));
    Files.createDirectories(root.resolve("cache"));
    String conf = common(root, n.name) + """
        http {
          access_log off;
          sendfile on;
          tcp_nopush on;
          keepalive_requests 1000000;
          %3$s
          proxy_cache_path %1$s/cache levels=1:2 keys_zone=bench:64m max_size=32g inactive=1d use_temp_path=off;
          server {
            listen 127.0.0.1:%2$d;
            location / {
              slice 1m;
              proxy_cache bench;
              proxy_cache_key $uri$is_args$args$slice_range;
              proxy_set_header Range $slice_range;
              proxy_cache_valid 200 206 1h;
              proxy_buffering on;
              proxy_cache_lock on;
              proxy_pass http://127.0.0.1:%4$d;
            }
          }
        }
        """.formatted(root, n.port, tempPaths(root), originPort);
    n.start(conf);
    return n;
  }

  private void start(String conf) throws IOException {
    Files.writeString(root.resolve("nginx.conf"), conf);
    start();
  }

  /** Starts nginx with its written config; returns once it accepts connections. */
  void start() throws IOException {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(name + " already running");
    }
    process = Procs.start(new ProcessBuilder(binary(), "-e", root.resolve("error.log").toString(),
        "-p", root.toString(), "-c", root.resolve("nginx.conf").toString())
        .redirectErrorStream(true)
        .redirectOutput(root.resolve("nginx.out").toFile()));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() < deadline) {
      try (Socket ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
        return;
      } catch (IOException notYet) {
        if (!process.isAlive()) {
          throw new IOException("nginx " + name + " exited: " + Procs.tail(Files.readString(root.resolve("nginx.out"))
              + readQuietly(root.resolve("error.log"))));
        }
        sleepMillis(2);
      }
    }
    throw new IOException("nginx " + name + " did not listen on " + port + " within 15 s");
  }

  Process process() {
    return process;
  }

  long pid() {
    return process.pid();
  }

  String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  void stop() {
    Procs.stop(process);
  }

  @Override
  public void close() {
    stop();
  }

  private static String readQuietly(Path p) {
    try {
      return Files.exists(p) ? Files.readString(p) : "";
    } catch (IOException e) {
      return "";
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
      return s.getLocalPort();
    }
  }

  static void sleepMillis(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
