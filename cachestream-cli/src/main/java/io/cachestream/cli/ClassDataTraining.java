package io.cachestream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A short run of the daemon and the commands, so that the JVM can record the classes start-up loads in a class-data
 * archive: {@code java -XX:ArchiveClassesAtExit=cachestream.jsa -cp cachestream.jar
 * io.cachestream.cli.ClassDataTraining}. {@code mvn package} runs it next to the jar, and {@code bin/cachestream}
 * starts the JVM with that archive (a third less start-up time). Not an API.
 *
 * <p>Loopback only, on free ports; everything it creates lives in a temporary directory it deletes.
 */
public final class ClassDataTraining {
  private static final Duration LIMIT = Duration.ofSeconds(30);

  private ClassDataTraining() {}

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("cachestream-training-");
    HttpServer origin = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    byte[] body = new byte[256 * 1024];
    origin.createContext("/", exchange -> {
      exchange.getResponseHeaders().set("Content-Type", "video/mp4");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    origin.start();
    PrintStream stdout = System.out;
    PrintStream stderr = System.err;
    System.setOut(new PrintStream(OutputStream.nullOutputStream()));
    System.setErr(new PrintStream(OutputStream.nullOutputStream()));
    try {
      Thread serve = new Thread(() -> Main.run("serve", "--port", "0", "--cache-dir", dir.toString()), "serve");
      serve.setDaemon(true);
      serve.start();
      String base = awaitDaemon(dir.resolve(CacheAccess.DAEMON_FILE));
      HttpClient http = HttpClient.newBuilder().connectTimeout(LIMIT).build();
      String proxied = base + "/http/127.0.0.1:" + origin.getAddress().getPort() + "/training.mp4";
      get(http, base + "/healthz", null);
      get(http, proxied, null);
      get(http, proxied, "bytes=1000-");
      Main.run("ls", "--json", "--cache-dir", dir.toString());
      Main.run("rm", "--inactive", "--cache-dir", dir.toString());
    } finally {
      System.setOut(stdout);
      System.setErr(stderr);
      origin.stop(0);
      deleteQuietly(dir);
    }
    System.exit(0); // the serve thread never returns; the JVM writes the archive as it exits
  }

  private static String awaitDaemon(Path daemonFile) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + LIMIT.toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(daemonFile)) {
        try {
          JsonNode announced = new ObjectMapper().readTree(daemonFile.toFile());
          return announced.get("baseUrl").asText();
        } catch (IOException halfWritten) {
          // Replaced atomically, but be lenient: try again.
        }
      }
      Thread.sleep(10);
    }
    throw new IOException("the daemon did not start within " + LIMIT.toSeconds() + " s");
  }

  private static void get(HttpClient http, String url, String range) throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(LIMIT);
    if (range != null) {
      request.header("Range", range);
    }
    HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    if (response.statusCode() / 100 != 2) {
      throw new IOException(url + ": HTTP " + response.statusCode());
    }
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // A temporary directory: the OS cleans up what is left.
    }
  }
}
