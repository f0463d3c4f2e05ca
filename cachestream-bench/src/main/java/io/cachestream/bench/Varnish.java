package io.cachestream.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Varnish as the second caching proxy peer, as issue 7 welcomes it (the Debian package, malloc storage, streaming
 * on): {@code varnishd -F} with a generated VCL in its own directory, listening on a free loopback port. The process
 * we start is the manager, in the foreground; it forks the child that serves and holds the malloc storage, and stops
 * that child when it gets SIGTERM.
 */
final class Varnish implements AutoCloseable {
  private static final String SBIN = "/usr/sbin/varnishd";

  final int port;
  private final Process process;

  private Varnish(int port, Process process) {
    this.port = port;
    this.process = process;
  }

  /** Whether varnishd is there: it is optional, and without it the bench runs without the varnish peer. */
  static boolean installed() {
    return Files.isExecutable(Path.of(SBIN)) || Procs.onPath("varnishd");
  }

  static String binary() {
    return Files.isExecutable(Path.of(SBIN)) ? SBIN : "varnishd";
  }

  /**
   * Starts varnish in front of the origin with {@code -s malloc,<storage>}; returns once it accepts connections.
   * Every response is cached for an hour ({@code beresp.ttl}, as {@code proxy_cache_valid} does for nginx) and
   * streamed to the client while it is fetched ({@code beresp.do_stream}). {@code -j none}: started as root, varnishd
   * would otherwise run as the {@code varnish} and {@code vcache} users, who cannot read the bench's private work
   * directory.
   */
  static Varnish start(Path root, int originPort, String storage) throws IOException {
    int port = Nginx.freePort();
    Files.createDirectories(root);
    Path vcl = root.resolve("default.vcl");
    Files.writeString(vcl, """
        vcl 4.1;
        backend origin { .host = "127.0.0.1"; .port = "%d"; }
        sub vcl_recv { if (req.method == "PURGE") { return (purge); } }
        sub vcl_backend_response { set beresp.ttl = 1h; set beresp.do_stream = true; }
        """.formatted(originPort));
    Path out = root.resolve("varnishd.out");
    Process p = Procs.start(new ProcessBuilder(binary(), "-F", "-j", "none", "-a", "127.0.0.1:" + port, "-f",
        vcl.toString(), "-s", "malloc," + storage, "-n", root.resolve("work").toString())
        .redirectErrorStream(true)
        .redirectOutput(out.toFile()));
    Varnish v = new Varnish(port, p);
    // The VCL is compiled by a C compiler first: slower than nginx to come up.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      try (Socket ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
        return v;
      } catch (IOException notYet) {
        if (!p.isAlive()) {
          throw new IOException("varnishd exited: " + Procs.tail(Files.readString(out)));
        }
        Nginx.sleepMillis(2);
      }
    }
    v.stop();
    throw new IOException("varnishd did not listen on " + port + " within 30 s");
  }

  /**
   * Removes the cached object of {@code target} (a path and query), freeing its malloc storage: S6 stores a 1 GiB
   * object per sample. The VCL answers {@code PURGE} from anyone; varnish listens on loopback only.
   */
  void purge(String target) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(30_000);
      String request = "PURGE " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n";
      socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      if (!answer.startsWith("HTTP/1.1 200")) {
        throw new IOException("varnish did not purge " + target + ": " + answer.lines().findFirst().orElse(""));
      }
    }
  }

  /** The manager's PID. */
  long pid() {
    return process.pid();
  }

  String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  /**
   * VmRSS in KiB of the manager and its children: the child is the one that serves, and its memory holds the malloc
   * storage, so the cached objects count.
   */
  long rssKiB() throws IOException {
    long sum = ScenarioBench.rssKiB(pid());
    for (ProcessHandle child : process.children().toList()) {
      try {
        sum += ScenarioBench.rssKiB(child.pid());
      } catch (NoSuchFileException gone) {
        // Exited since it was listed.
      }
    }
    return sum;
  }

  /**
   * SIGTERM to the manager, which stops its child before it exits. A child still there afterwards (the manager had
   * to be killed) is stopped by its own PID.
   */
  void stop() {
    List<ProcessHandle> children = process.children().toList();
    Procs.stop(process);
    for (ProcessHandle child : children) {
      if (child.isAlive()) {
        child.destroy();
        try {
          child.onExit().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException notYet) {
          child.destroyForcibly();
        } catch (InterruptedException e) {
          child.destroyForcibly();
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  @Override
  public void close() {
    stop();
  }
}
