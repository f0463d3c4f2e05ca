package io.cachestream.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cachestream.store.CacheStore;
import io.cachestream.store.EntryMeta;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The side-by-side scenario benchmark of issue 7: a real nginx origin, nginx as a caching proxy peer
 * ({@code proxy_cache} + {@code slice 1m}), Varnish as a second peer when it is installed (malloc storage, streaming
 * on) and two CacheStream daemons (default policy and bounded read-ahead), all on loopback on free ports, measured in
 * the same run by curl, wrk, ffprobe and ffmpeg.
 *
 * <pre>
 * bash scripts/bench.sh [--quick] [--runs N] [--markdown FILE] [--jfr DIR] [--keep]
 * java -cp ... io.cachestream.bench.ScenarioBench --jar cachestream-cli/target/cachestream.jar [same options]
 * </pre>
 *
 * <p>Every process it starts is stopped by PID at the end of its use, in a {@code finally} and by a shutdown hook;
 * a watchdog ends the run after a time limit. Exit 0 when every scenario ran (the numbers gate nothing), 1 if one
 * failed, 2 for bad arguments.
 */
public final class ScenarioBench {
  private static final long MIB = 1 << 20;
  private static final ObjectMapper JSON = new ObjectMapper();

  // Options.
  private final boolean quick;
  private final int runs;
  /**
   * Samples per run of the scenarios whose single samples spread most: S1, S4 and S6 (a hot stream of 1.5-5.1
   * GB/s; a first byte of 1-3 ms). Each S6 sample makes varnish store a 1 GiB object, purged once counted.
   */
  private final int samplesPerRun;
  /**
   * S7's cold samples per run, and the warm plays per server after each round of cold ones. A play's wall time is
   * nearly all ffprobe's and ffmpeg's own start-up, which drifts by 10-25 % from minute to minute on this VM whatever
   * the server (a server's part is a few milliseconds of 150-200): more samples, taken in rotation, keep that drift
   * out of the comparison.
   */
  private final int s7SamplesPerRun;
  private final int warmPlays;
  private final Path markdown;
  private final Path jar;
  private Path launcher;
  private final boolean keep;
  private final long readAhead;
  /** Where {@code --jfr} writes the daemons' flight recordings, or null. */
  private final Path jfrDir;
  private JfrProfiles jfr;

  // Sizes and scenario parameters (full, or the smoke version).
  private final long bigSize;
  private final long midSize;
  private final long smallSize = MIB;
  private final int videoSeconds;
  private final String videoGeometry;
  private final int seekSeconds;
  private final long rangeStart;
  private final long rangeLength = 1_000_000;
  /** Unmeasured far ranges per server before S6. */
  private static final int FAR_WARM_UPS = 5;
  /** What a warm-up seek reads before it drops its connection: a player's first read after a seek. */
  private static final int SEEK_READ = 32 * 1024;
  /** Every caching server the cold scenarios compare: the two peers and both CacheStream daemons. */
  private static final String[] CACHES = {"nginx", "varnish", "cs", "cs-ra"};
  /** S6's orders of the caches, taken in turn ({@link #s6Order}). */
  private static final List<List<String>> S6_ORDERS = List.of(List.of("cs", "varnish", "nginx", "cs-ra"),
      List.of("varnish", "cs", "cs-ra", "nginx"), List.of("nginx", "cs", "varnish", "cs-ra"),
      List.of("cs-ra", "varnish", "cs", "nginx"));
  /** The same without the varnish peer: the default daemon is then the one sample that fetches far more. */
  private static final List<List<String>> S6_ORDERS_WITHOUT_VARNISH = List.of(List.of("cs", "nginx", "cs-ra"),
      List.of("cs", "cs-ra", "nginx"), List.of("nginx", "cs-ra", "cs"), List.of("cs-ra", "nginx", "cs"));
  /** The per-sample log lines of S6 and S7 name the server's threads that ran at least this long meanwhile. */
  private static final long BUSY_THREAD_NANOS = 500_000;
  private final int wrkSeconds;
  private final int hotWarmUpSeconds;
  private final int s3Connections;
  private final int rssConnections;
  private final int entries;
  private final int warmUpRequests;
  private final long s5JoinMillis;
  private final String s5Location;
  private final String varnishStorage;
  private final Duration timeLimit;

  private final Report report = new Report();
  private Path work;
  private Path www;
  private String loadAtStart = "?";
  private String loadAtEnd = "?";
  private Nginx origin;
  private Nginx proxy;
  /** Null when varnishd is not installed: the varnish figures are then absent. */
  private Varnish varnish;
  private CsDaemon cs;
  private CsDaemon csRa;
  private long videoSize;

  private ScenarioBench(boolean quick, int runs, Path markdown, Path jar, boolean keep, long readAhead, Path jfrDir) {
    this.quick = quick;
    this.runs = runs;
    this.samplesPerRun = quick ? 1 : 3;
    this.s7SamplesPerRun = quick ? 1 : 5;
    this.warmPlays = quick ? 1 : 3;
    this.markdown = markdown;
    this.jar = jar;
    this.keep = keep;
    this.readAhead = readAhead;
    this.jfrDir = jfrDir;
    bigSize = quick ? 8 * MIB : 1024 * MIB;
    midSize = quick ? 2 * MIB : 64 * MIB;
    videoSeconds = quick ? 6 : 60;
    videoGeometry = quick ? "320x180" : "640x360";
    seekSeconds = quick ? 3 : 30;
    rangeStart = quick ? 6_000_000 : 900_000_000;
    wrkSeconds = quick ? 1 : 5;
    hotWarmUpSeconds = quick ? 1 : 10;
    s3Connections = quick ? 200 : 1000;
    rssConnections = quick ? 200 : 1000;
    entries = quick ? 500 : 10_000;
    warmUpRequests = quick ? 100 : 6000;
    // S5 needs a download still running when the second client joins: started just after a second boundary, 64 MiB
    // at 20 MiB/s ends after 3 s, 2 MiB at 1 MiB/s after 1 s (nginx's limit_rate lets a second's worth out at once).
    s5JoinMillis = quick ? 300 : 2000;
    s5Location = quick ? "/r1" : "/r20";
    // Room for the big file and every cold copy S4-S7 make (an S6 sample caches a 1 GiB object until it is purged,
    // and the purged storage is freed as its last reader lets go): varnish fails a streamed object it cannot find
    // room for.
    varnishStorage = quick ? "256M" : "6G";
    timeLimit = quick ? Duration.ofMinutes(5) : Duration.ofMinutes(40);
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the benchmark and returns its exit code: 0 when every scenario ran, whatever the numbers. */
  public static int run(String... args) {
    int code;
    try {
      code = fromArgs(args).runAll();
    } catch (IllegalArgumentException e) {
      System.err.println("bench: " + e.getMessage());
      System.err.println("usage: ScenarioBench --jar PATH [--quick] [--runs N] [--markdown FILE] [--read-ahead BYTES]"
          + " [--jfr DIR] [--keep]");
      code = 2;
    } catch (Exception e) {
      e.printStackTrace();
      code = 1;
    }
    return code;
  }

  private static ScenarioBench fromArgs(String[] args) {
    boolean quick = false;
    boolean keep = false;
    Integer runs = null;
    Path markdown = null;
    Path jar = Path.of("cachestream-cli/target/cachestream.jar");
    long readAhead = 4L << 20;
    Path jfrDir = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--quick" -> quick = true;
        case "--keep" -> keep = true;
        case "--runs" -> runs = Integer.parseInt(value(args, ++i, a));
        case "--markdown" -> markdown = Path.of(value(args, ++i, a));
        case "--jar" -> jar = Path.of(value(args, ++i, a));
        case "--read-ahead" -> readAhead = Long.parseLong(value(args, ++i, a));
        case "--jfr" -> jfrDir = Path.of(value(args, ++i, a));
        default -> throw new IllegalArgumentException("unknown argument " + a);
      }
    }
    if (runs != null && (runs < 1 || runs > 20)) {
      throw new IllegalArgumentException("--runs must be 1..20: " + runs);
    }
    if (!Files.isRegularFile(jar)) {
      throw new IllegalArgumentException("no CacheStream jar at " + jar + " (build: mvn -q install -DskipTests)");
    }
    return new ScenarioBench(quick, runs != null ? runs : quick ? 1 : 3, markdown, jar.toAbsolutePath(), keep,
        readAhead, jfrDir);
  }

  private static String value(String[] args, int i, String name) {
    if (i >= args.length) {
      throw new IllegalArgumentException(name + " needs a value");
    }
    return args[i];
  }

  private int runAll() throws Exception {
    long t0 = System.nanoTime();
    work = Files.createTempDirectory("cachestream-bench-");
    Path workDir = work;
    Thread hook = new Thread(() -> {
      Procs.stopAll();
      if (!keep) {
        deleteTree(workDir);
      }
    }, "bench-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    Thread watchdog = new Thread(() -> {
      try {
        Thread.sleep(timeLimit.toMillis());
        System.err.println("bench: time limit of " + timeLimit.toMinutes() + " min reached; stopping everything");
        System.exit(3);
      } catch (InterruptedException done) {
        // Finished in time.
      }
    }, "bench-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    log("work dir " + work + (quick ? " (quick smoke run)" : "") + ", " + runs + " run(s)");
    loadAtStart = loadAverage();
    try {
      checkTools();
      launcher = CsDaemon.install(jar, work.resolve("cachestream"));
      generateFiles();
      origin = Nginx.origin(work.resolve("origin"), www);
      proxy = Nginx.proxy(work.resolve("proxy"), origin.port);
      if (Varnish.installed()) {
        varnish = Varnish.start(work.resolve("varnish"), origin.port, varnishStorage);
      } else {
        log("varnishd not installed: no varnish peer (scripts/test.sh installs it)");
        report.notes.add("varnishd was not installed: no varnish figures.");
      }
      // Both daemons start at once (each to its own cache dir); their start times are recorded.
      CompletableFuture<CsDaemon> ra = CompletableFuture.supplyAsync(() -> {
        try {
          return CsDaemon.start("read-ahead", launcher, work.resolve("cs-read-ahead"), work.resolve("cs-read-ahead.log"),
              origin.port, List.of("--read-ahead", Long.toString(readAhead)));
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      });
      try {
        cs = CsDaemon.start("default", launcher, work.resolve("cs-default"), work.resolve("cs-default.log"), origin.port,
            List.of());
      } finally {
        csRa = ra.get(120, TimeUnit.SECONDS);
      }
      report.add("ready.cs.empty-cache-s", cs.readyNanos / 1e9);
      report.add("ready.cs.empty-cache-s", csRa.readyNanos / 1e9);
      log("origin nginx :" + origin.port + " (pid " + origin.pid() + "), proxy nginx :" + proxy.port + " (pid "
          + proxy.pid() + ")" + (varnish == null ? "" : ", varnish :" + varnish.port + " (pid " + varnish.pid() + ")")
          + ", CacheStream default :" + cs.port + " (pid " + cs.pid() + "), read-ahead :" + csRa.port + " (pid "
          + csRa.pid() + ")");
      if (jfrDir != null) {
        jfr = new JfrProfiles(jfrDir);
      }
      scenario("S1 hot " + (bigSize / MIB) + " MiB stream", this::s1);
      scenario("hot warm-up: " + hotWarmUpSeconds + " s of wrk -c64 per server", this::hotWarmUp);
      scenario("S2 wrk -c64", () -> wrkScenario("s2", 64));
      scenario("S3 wrk -c" + s3Connections, () -> wrkScenario("s3", s3Connections));
      scenario("warm-up: " + warmUpRequests + " cold, " + warmUpRequests + " cached and " + warmUpRequests
          + " player seeks per server",
          this::warmUp);
      scenario("S4 cold download", this::s4);
      scenario("S5 second client", this::s5);
      scenario("S6 far range", this::s6);
      scenario("S7 ffprobe/ffmpeg seek", this::s7);
      scenario("RSS with " + rssConnections + " connections", this::rss);
      scenario("ready with " + entries + " entries", this::ready);
      if (jfr != null) {
        log("JFR profiles summed up in " + jfr.summarize());
      }
    } finally {
      Procs.stopAll();
      watchdog.interrupt();
    }
    double elapsed = (System.nanoTime() - t0) / 1e9;
    loadAtEnd = loadAverage();
    buildRows();
    System.out.println();
    System.out.print(report.text());
    System.out.println();
    System.out.print(report.asciiChart());
    report.failures.forEach(f -> System.out.println("FAILED: " + f));
    System.out.printf(Locale.ROOT, "%nbench finished in %.0f s%n", elapsed);
    if (markdown != null) {
      writeMarkdown(elapsed);
    }
    if (!keep) {
      deleteTree(work);
    } else {
      log("kept " + work);
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // Already running.
    }
    return report.failures.isEmpty() ? 0 : 1;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Setup

  private interface Body {
    void run() throws Exception;
  }

  private void scenario(String name, Body body) {
    long t0 = System.nanoTime();
    log(name + " …");
    try (AutoCloseable profiled = jfr == null ? null : jfr.record(name, List.of(cs, csRa))) {
      body.run();
      log(String.format(Locale.ROOT, "%s done in %.1f s", name, (System.nanoTime() - t0) / 1e9));
    } catch (Exception | LinkageError | AssertionError e) {
      report.failures.add(name + ": " + e);
      System.err.println("bench: " + name + " failed");
      e.printStackTrace();
    }
  }

  private static void log(String message) {
    System.err.println("[bench " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + "] " + message);
  }

  private void checkTools() throws Exception {
    List<String> missing = new ArrayList<>();
    for (String tool : List.of("curl", "wrk", "ffmpeg", "ffprobe")) {
      if (!Procs.onPath(tool)) {
        missing.add(tool);
      }
    }
    if (!Nginx.binary().startsWith("/") && !Procs.onPath("nginx")) {
      missing.add("nginx");
    }
    if (!missing.isEmpty()) {
      throw new IllegalStateException("missing tools: " + missing + " (scripts/test.sh installs them)");
    }
  }

  private void generateFiles() throws Exception {
    long t0 = System.nanoTime();
    www = Files.createDirectories(work.resolve("www"));
    randomFile(www.resolve("big.bin"), bigSize, 1);
    randomFile(www.resolve("mid.bin"), midSize, 2);
    randomFile(www.resolve("small.bin"), smallSize, 3);
    randomFile(www.resolve("tiny.bin"), 1024, 4);
    // Not faststart: the moov atom is at the end, so a player reads the head, then the tail, then seeks.
    Procs.run(Duration.ofMinutes(5), "ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
        "testsrc=duration=" + videoSeconds + ":size=" + videoGeometry + ":rate=25", "-c:v", "libx264", "-preset",
        "ultrafast", "-pix_fmt", "yuv420p", www.resolve("video.mp4").toString()).check("ffmpeg (test video)");
    videoSize = Files.size(www.resolve("video.mp4"));
    log(String.format(Locale.ROOT, "test files: %d MiB, %d MiB, 1 MiB, %d s MP4 of %.1f MB, in %.1f s",
        bigSize / MIB, midSize / MIB, videoSeconds, videoSize / 1e6, (System.nanoTime() - t0) / 1e9));
  }

  static void randomFile(Path path, long size, long seed) throws IOException {
    SplittableRandom random = new SplittableRandom(seed);
    ByteBuffer buf = ByteBuffer.allocateDirect(4 << 20);
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      long left = size;
      while (left > 0) {
        buf.clear();
        while (buf.remaining() >= 8) {
          buf.putLong(random.nextLong());
        }
        buf.flip();
        buf.limit((int) Math.min(buf.capacity(), left));
        while (buf.hasRemaining()) {
          left -= ch.write(buf);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Clients

  /** What curl reports for one transfer. */
  record Curl(double ttfb, double total, long size, double speed, int status) {}

  private static Curl curl(String url, String range, long expectedSize) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("curl", "-s", "-S", "--noproxy", "*", "-o", "/dev/null",
        "--max-time", "300", "-w", "%{time_starttransfer} %{time_total} %{size_download} %{speed_download} %{http_code}"));
    if (range != null) {
      cmd.addAll(List.of("-H", "Range: " + range));
    }
    cmd.add(url);
    Procs.Result r = Procs.run(Duration.ofSeconds(320), cmd).check("curl " + url);
    String[] f = r.out().trim().split(" ");
    Curl c = new Curl(Double.parseDouble(f[0]), Double.parseDouble(f[1]), (long) Double.parseDouble(f[2]),
        Double.parseDouble(f[3]), Integer.parseInt(f[4]));
    if (c.status / 100 != 2) {
      throw new IllegalStateException("curl " + url + ": HTTP " + c.status);
    }
    if (expectedSize >= 0 && c.size != expectedSize) {
      throw new IllegalStateException("curl " + url + ": " + c.size + " bytes, expected " + expectedSize);
    }
    return c;
  }

  /** What wrk reports for one run. */
  record Wrk(double rps, double p99Millis, long errors, long requests) {}

  private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([\\d.]+)");
  private static final Pattern P99 = Pattern.compile("\\s99%\\s+([\\d.]+)(us|ms|s|m)\\b");
  private static final Pattern SOCKET_ERRORS =
      Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");
  private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses: (\\d+)");
  private static final Pattern REQUESTS = Pattern.compile("(\\d+) requests in");

  private Wrk wrk(int connections, String url) throws IOException, InterruptedException {
    return wrk(connections, url, wrkSeconds);
  }

  private Wrk wrk(int connections, String url, int seconds) throws IOException, InterruptedException {
    Procs.Result r = Procs.run(Duration.ofSeconds(seconds + 60), "wrk", "-t2", "-c" + connections,
        "-d" + seconds + "s", "--latency", url).check("wrk " + url);
    String out = r.out();
    Matcher rps = RPS.matcher(out);
    Matcher p99 = P99.matcher(out);
    if (!rps.find() || !p99.find()) {
      throw new IllegalStateException("cannot read wrk output: " + Procs.tail(out));
    }
    double latency = Double.parseDouble(p99.group(1));
    latency *= switch (p99.group(2)) {
      case "us" -> 0.001;
      case "s" -> 1000;
      case "m" -> 60_000;
      default -> 1;
    };
    long errors = 0;
    Matcher se = SOCKET_ERRORS.matcher(out);
    if (se.find()) {
      for (int g = 1; g <= 4; g++) {
        errors += Long.parseLong(se.group(g));
      }
    }
    Matcher non2xx = NON_2XX.matcher(out);
    if (non2xx.find()) {
      errors += Long.parseLong(non2xx.group(1));
    }
    Matcher requests = REQUESTS.matcher(out);
    return new Wrk(Double.parseDouble(rps.group(1)), latency, errors,
        requests.find() ? Long.parseLong(requests.group(1)) : -1);
  }

  /** ffprobe of {@code url}, then ffmpeg decoding one frame after a seek; the wall time of both. */
  private double player(String url) throws IOException, InterruptedException {
    long t0 = System.nanoTime();
    Procs.Result probe = Procs.run(Duration.ofSeconds(120), "ffprobe", "-v", "error", "-show_entries",
        "format=duration", "-of", "default=nw=1", url).check("ffprobe " + url);
    if (!probe.out().contains("duration=")) {
      throw new IllegalStateException("ffprobe " + url + " found no duration: " + probe.out());
    }
    Procs.run(Duration.ofSeconds(120), "ffmpeg", "-v", "error", "-nostdin", "-ss", Integer.toString(seekSeconds),
        "-i", url, "-frames:v", "1", "-f", "null", "-").check("ffmpeg " + url);
    return (System.nanoTime() - t0) / 1e9;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Origin accounting

  private long logMark() throws IOException {
    return Files.exists(origin.accessLog) ? Files.size(origin.accessLog) : 0;
  }

  /**
   * Body bytes the origin sent since {@code mark}, once no connection to it is open any more (each origin
   * connection carries one request, and nginx logs a request before closing its connection): downloads that go on
   * after the client is served count too. Waits at most {@code maxWait}.
   */
  private long originBytesSince(long mark, Duration maxWait) throws IOException {
    return originBytesSince(mark, maxWait, null);
  }

  /** Like {@link #originBytesSince(long, Duration)}, counting only requests of {@code onlyUri} unless it is null. */
  private long originBytesSince(long mark, Duration maxWait, String onlyUri) throws IOException {
    long deadline = System.nanoTime() + maxWait.toNanos();
    int idle = 0;
    while (idle < (quick ? 3 : 5)) {
      if (System.nanoTime() > deadline) {
        report.notes.add("origin still had open connections " + maxWait.toSeconds() + " s after a transfer: its bytes "
            + "so far are counted");
        break;
      }
      idle = establishedOn(origin.port) == 0 ? idle + 1 : 0;
      Nginx.sleepMillis(quick ? 20 : 40);
    }
    byte[] all = Files.readAllBytes(origin.accessLog);
    long sum = 0;
    for (String line : new String(all, (int) mark, all.length - (int) Math.min(mark, all.length),
        StandardCharsets.UTF_8).split("\n")) {
      String[] f = line.trim().split(" ");
      if (f.length == 3 && (onlyUri == null || f[0].equals(onlyUri))) {
        sum += Long.parseLong(f[2]);
      }
    }
    return sum;
  }

  /** Established TCP connections whose local port is {@code port} (the server side of its connections). */
  static int establishedOn(int port) throws IOException {
    int count = 0;
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path p = Path.of(table);
      if (!Files.exists(p)) {
        continue;
      }
      for (String line : Files.readAllLines(p)) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 4 || !f[1].contains(":")) {
          continue;
        }
        int local = Integer.parseInt(f[1].substring(f[1].lastIndexOf(':') + 1), 16);
        if (local == port && f[3].equals("01")) {
          count++;
        }
      }
    }
    return count;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Scenarios

  /** The caching peers and the default CacheStream daemon, in an order that rotates with {@code run}. */
  private List<String> rotation(int run) {
    return rotation(run, "nginx", "varnish", "cs");
  }

  /** {@code who} (those present) in an order that rotates with {@code run}, so that none of them always goes first. */
  private List<String> rotation(int run, String... who) {
    List<String> order = new ArrayList<>(present(who));
    Collections.rotate(order, -(run % order.size()));
    return order;
  }

  /** {@code who} without "varnish" when there is no varnish peer. */
  private List<String> present(String... who) {
    return Stream.of(who).filter(w -> varnish != null || !w.equals("varnish")).toList();
  }

  /** One GET of {@code path} through every cache, so that the hot scenarios time cached bytes only. */
  private void fillCaches(String path, long size) throws IOException, InterruptedException {
    for (String who : rotation(0)) {
      curl(urlFor(who, path), null, size);
    }
  }

  private void s1() throws Exception {
    String path = "/big.bin";
    fillCaches(path, bigSize);
    long mark = logMark();
    for (int r = 0; r < runs * samplesPerRun; r++) {
      for (String who : rotation(r)) {
        report.add("s1." + who + ".MBps", curl(urlFor(who, path), null, bigSize).speed / 1e6);
      }
    }
    report.add("s1.origin-bytes-while-hot", originBytesSince(mark, Duration.ofSeconds(10)));
  }

  /**
   * Before the hot scenarios, every server (both CacheStream daemons too: S6 and S7 read cached bytes from the
   * read-ahead one) serves the hot small file under {@code wrk -c64} for {@link #hotWarmUpSeconds}, unmeasured. A
   * JVM compiles its hot path with C2 only after thousands of calls: without this, S2's first run measured the
   * daemon still compiling (a p99 of 0.5 s in a fresh daemon's first 5 s, against 20-30 ms once compiled), as no
   * long-running daemon would be. nginx and varnish need no warm-up but get the same.
   */
  private void hotWarmUp() throws Exception {
    String path = "/small.bin";
    for (String who : present(CACHES)) {
      curl(urlFor(who, path), null, smallSize);
      wrk(64, urlFor(who, path), hotWarmUpSeconds);
    }
  }

  private void wrkScenario(String key, int connections) throws Exception {
    String path = "/small.bin";
    fillCaches(path, smallSize);
    long mark = logMark();
    for (int r = 0; r < runs; r++) {
      for (String who : rotation(r)) {
        Wrk w = wrk(connections, urlFor(who, path));
        report.add(key + "." + who + ".rps", w.rps);
        report.add(key + "." + who + ".p99ms", w.p99Millis);
        report.add(key + "." + who + ".errors", w.errors);
        report.add(key + "." + who + ".requests", w.requests);
      }
    }
    report.add(key + ".origin-bytes-while-hot", originBytesSince(mark, Duration.ofSeconds(10)));
  }

  /**
   * Before the cold scenarios, every server answers the same {@link #warmUpRequests} cold requests (a fresh key
   * each, one connection each, the tiny file, whole and ranged), then as many of one cached key, each on its own
   * connection too: a daemon that has run for a while has compiled its cold path and its path for a cached range on
   * a new connection, and S4, S6 and S7 (a player opens a connection per seek) measure those paths a handful of
   * times only. Then as many seeks of a player into the cached MP4: an open range from a different offset each, the
   * connection closed after its first {@link #SEEK_READ} bytes, as a player drops a connection when it seeks again
   * (without them the default daemon's C2 compiler was at work in 6 of S7's 15 rounds of warm plays, 10-50 ms of CPU
   * at a time; with them in 0 and 2 of 15).
   * nginx and varnish get the same requests.
   */
  private void warmUp() throws Exception {
    for (String who : present(CACHES)) {
      long t0 = System.nanoTime();
      ExecutorService pool = Executors.newFixedThreadPool(4);
      List<Future<Boolean>> answers = new ArrayList<>();
      try {
        for (int i = 0; i < 2 * warmUpRequests; i++) {
          String key = i < warmUpRequests ? Integer.toString(i) : "cached";
          String target = target(who, "/tiny.bin?warm-up=" + key);
          String range = i % 2 == 1 ? "bytes=100-" : null;
          answers.add(pool.submit(() -> getOk(portFor(who), target, range, Integer.MAX_VALUE)));
        }
        String video = target(who, "/video.mp4?warm-up=player");
        for (int i = 0; i < warmUpRequests; i++) {
          String range = "bytes=" + (i * 65_537L) % videoSize + "-";
          answers.add(pool.submit(() -> getOk(portFor(who), video, range, SEEK_READ)));
        }
        long failed = 0;
        for (Future<Boolean> answer : answers) {
          if (!answer.get(60, TimeUnit.SECONDS)) {
            failed++;
          }
        }
        if (failed > 0) {
          throw new IllegalStateException(who + ": " + failed + " of " + answers.size()
              + " warm-up requests failed");
        }
      } finally {
        pool.shutdownNow();
      }
      log(String.format(Locale.ROOT, "warm-up of %s: %d requests in %.1f s", who, answers.size(),
          (System.nanoTime() - t0) / 1e9));
    }
  }

  /** The request target (path and query) of {@code path} through server {@code who}. */
  private String target(String who, String path) {
    URI url = URI.create(urlFor(who, path));
    return url.getRawPath() + "?" + url.getRawQuery();
  }

  /**
   * One GET on its own connection ({@code Connection: close}, with {@code Range: range} unless null), read to the
   * end or until {@code maxBytes} have arrived, whichever comes first; true for a 200, or a 206 when ranged.
   */
  private static boolean getOk(int port, String target, String range, int maxBytes) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(30_000);
      String request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
          + (range != null ? "Range: " + range + "\r\n" : "") + "Connection: close\r\n\r\n";
      socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      byte[] answer = socket.getInputStream().readNBytes(maxBytes);
      String statusLine = new String(answer, 0, Math.min(answer.length, 12), StandardCharsets.US_ASCII);
      return statusLine.equals(range != null ? "HTTP/1.1 206" : "HTTP/1.1 200");
    }
  }

  /**
   * "direct" first, then {@code peers} (those present) in an order that rotates with {@code run}, so that no server
   * is always measured first.
   */
  private List<String> coldOrder(int run, String... peers) {
    List<String> order = new ArrayList<>(List.of("direct"));
    order.addAll(rotation(run, peers));
    return order;
  }

  /**
   * Before each cold measurement: {@code sync}, so that the previous server's freshly cached bytes are not being
   * written back to disk under the next one's measurement, then up to 5 s until the machine is quiet (90 % idle over
   * 100 ms), so that no server's background work (a whole-file download finishing, its last checkpoint) runs under
   * the next one's measurement: with four servers and three runs, the rotation alone still measured the read-ahead
   * daemon right after the default one every time.
   */
  private static void settle() throws IOException, InterruptedException {
    Procs.run(Duration.ofSeconds(120), "sync").check("sync");
    for (int i = 0; i < 50; i++) {
      long[] before = cpuTicks();
      Thread.sleep(100);
      long[] after = cpuTicks();
      long total = after[0] - before[0];
      if (total > 0 && (after[1] - before[1]) * 10 >= total * 9) {
        return;
      }
    }
  }

  /** Total and idle CPU ticks of the machine, from the first line of {@code /proc/stat}. */
  private static long[] cpuTicks() throws IOException {
    String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
    long total = 0;
    for (int i = 1; i < f.length; i++) {
      total += Long.parseLong(f[i]);
    }
    return new long[] {total, Long.parseLong(f[4]) + Long.parseLong(f[5])}; // idle + iowait
  }

  private void s4() throws Exception {
    for (int r = 0; r < runs * samplesPerRun; r++) {
      String path = "/r50/mid.bin?run=s4-" + r;
      // The smoke run's file fits in the first second's allowance: nothing to align then.
      boolean align = midSize > 50 * MIB;
      for (String who : coldOrder(r, "nginx", "varnish", "cs")) {
        settle();
        if (align) {
          alignToSecond();
        }
        Curl c = curl(urlFor(who, path), null, midSize);
        report.add("s4." + who + ".total-s", c.total);
        report.add("s4." + who + ".ttfb-ms", c.ttfb * 1000);
      }
    }
    originBytesSince(logMark(), Duration.ofSeconds(30));
  }

  private void s5() throws Exception {
    for (int r = 0; r < runs; r++) {
      for (String who : present("nginx", "varnish", "cs")) {
        String path = s5Location + "/mid.bin?run=s5-" + who + "-" + r;
        String url = urlFor(who, path);
        long mark = logMark();
        alignToSecond();
        CompletableFuture<Curl> first = CompletableFuture.supplyAsync(() -> {
          try {
            return curl(url, null, midSize);
          } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
          }
        });
        Thread.sleep(s5JoinMillis);
        if (first.isDone()) {
          // nginx's slice fetches open one origin connection per MiB, each with its own first-second allowance.
          report.add("s5." + who + ".first-done-before-join", 1);
        }
        Curl second = curl(url, null, midSize);
        Curl one = first.get(300, TimeUnit.SECONDS);
        long originBytes = originBytesSince(mark, Duration.ofSeconds(30));
        report.add("s5." + who + ".ttfb-ms", second.ttfb * 1000);
        report.add("s5." + who + ".first-ttfb-ms", one.ttfb * 1000);
        report.add("s5." + who + ".origin-per-client-bytes", originBytes / (double) (one.size + second.size));
      }
    }
  }

  /** {@code path} on the origin ("direct"), the nginx or varnish peer, or one of the two CacheStream daemons. */
  private String urlFor(String who, String path) {
    return switch (who) {
      case "direct" -> origin.url(path);
      case "nginx" -> proxy.url(path);
      case "varnish" -> varnish.url(path);
      case "cs" -> cs.url(path);
      default -> csRa.url(path);
    };
  }

  /** The port {@link #urlFor} sends {@code who}'s requests to. */
  private int portFor(String who) {
    return URI.create(urlFor(who, "/")).getPort();
  }

  private void s6() throws Exception {
    // The general warm-up asks for a tiny file only: before S6 every server also answers a few far ranges of the
    // 64 MiB file (unmeasured), so that S6 times a far seek's compiled path rather than its first, class-loading runs
    // (a read-ahead daemon took 10 ms on its first two far seeks, 2-3 ms after).
    long warmStart = midSize / 2;
    long warmLength = Math.min(rangeLength, midSize / 4);
    String warmRange = "bytes=" + warmStart + "-" + (warmStart + warmLength - 1);
    for (String who : present(CACHES)) {
      for (int i = 0; i < FAR_WARM_UPS; i++) {
        curl(urlFor(who, "/mid.bin?s6-warm-up=" + i), warmRange, warmLength);
      }
    }
    originBytesSince(logMark(), Duration.ofSeconds(60));
    String range = "bytes=" + rangeStart + "-" + (rangeStart + rangeLength - 1);
    for (int r = 0; r < runs * samplesPerRun; r++) {
      String path = "/big.bin?run=s6-" + r;
      for (String who : s6Order(r)) {
        String url = urlFor(who, path);
        readIntoPageCache(www.resolve("big.bin"), rangeStart);
        settle();
        long mark = logMark();
        long pid = serverPid(who);
        Map<Long, Long> cpu = Procs.threadCpuNanos(pid);
        Curl c = curl(url, range, rangeLength);
        log(String.format(Locale.ROOT, "S6 %s #%d: TTFB %.2f ms; CPU ms of its threads meanwhile: %s", who, r,
            c.ttfb * 1000, Procs.busiestThreads(cpu, Procs.threadCpuNanos(pid), BUSY_THREAD_NANOS)));
        report.add("s6." + who + ".ttfb-ms", c.ttfb * 1000);
        report.add("s6." + who + ".origin-MB", originBytesSince(mark, Duration.ofSeconds(60)) / 1e6);
        if (who.equals("varnish")) {
          varnish.purge(path); // its whole 1 GiB object, fetched by now: room for the next sample's
        }
      }
    }
  }

  /**
   * S6's order in round {@code r}: direct, then the caches in one of four orders which, taken together, put every
   * cache right after a sample that fetched far more than its range (varnish's: the whole 1 GiB object; the default
   * daemon's: the rest of the file) equally often, and every cache first after direct once. The plain rotation put a
   * CacheStream daemon in that place in seven of nine rounds and nginx never, and the daemons' samples there ran
   * slow far more often: over seven runs of nine rounds, medians of 5.1 (default) and 6.2 ms (read-ahead) against
   * 1.7 ms elsewhere, while direct's took 0.5 ms in either place.
   */
  private List<String> s6Order(int r) {
    List<List<String>> orders = varnish != null ? S6_ORDERS : S6_ORDERS_WITHOUT_VARNISH;
    List<String> order = new ArrayList<>(List.of("direct"));
    order.addAll(orders.get(r % orders.size()));
    return order;
  }

  /**
   * Reads {@code file} from {@code from} to its end, so that the origin answers S6 from memory whatever a server
   * asks it for. This VM's page cache is dropped in the background, and the origin (`sendfile`, `tcp_nopush`) sends
   * its head only with the first 2 MiB of body: with those pages gone, a far range through a server asking for more
   * than the client's 1 MB (the rest of the file, a read-ahead; direct only warms that 1 MB) waited 10 ms for the
   * origin's disk (measured after dropping the cache; 8-33 ms spikes in two or three of nine samples before).
   */
  private static void readIntoPageCache(Path file, long from) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      for (long position = from; channel.read(buffer.clear(), position) > 0; position += buffer.position()) {
        // discard: only the page cache matters
      }
    }
  }

  private void s7() throws Exception {
    for (int r = 0; r < runs * s7SamplesPerRun; r++) {
      String path = "/r50/video.mp4?run=s7-" + r;
      for (String who : coldOrder(r, CACHES)) {
        settle();
        long mark = logMark();
        report.add("s7." + who + ".cold-s", player(urlFor(who, path)));
        report.add("s7." + who + ".cold-origin-MB", originBytesSince(mark, Duration.ofSeconds(60)) / 1e6);
      }
      warmRound(r, path, rotation(r, CACHES));
    }
  }

  /**
   * S7's warm plays of round {@code r}: {@code warmPlays} cycles through the servers, one play each, so that every
   * server's plays meet the same machine. This VM runs a play in about 0.15 or about 0.20 s, switching between the
   * two every few seconds whatever the server (0.14-0.15 s and 0.19-0.21 s for every server, both within a
   * minute): a block of one server's plays could land in one regime and the next server's in the other. Each
   * server's CPU time is read around its own plays only.
   */
  private void warmRound(int r, String path, List<String> servers) throws Exception {
    Map<String, Long> cpuNanos = new HashMap<>();
    Map<String, String> busiest = new HashMap<>();
    long mark = logMark();
    for (int i = 0; i < warmPlays; i++) {
      for (String who : servers) {
        long pid = serverPid(who);
        Map<Long, Long> cpu = Procs.threadCpuNanos(pid);
        report.add("s7." + who + ".warm-s", player(urlFor(who, path)));
        Map<Long, Long> cpuAfter = Procs.threadCpuNanos(pid);
        cpuNanos.merge(who, Procs.cpuNanosBetween(cpu, cpuAfter), Long::sum);
        busiest.merge(who, Procs.busiestThreads(cpu, cpuAfter, BUSY_THREAD_NANOS), (a, b) -> a + " | " + b);
      }
    }
    for (String who : servers) {
      report.add("s7." + who + ".warm-cpu-ms", cpuNanos.get(who) / 1e6 / warmPlays);
      log(String.format(Locale.ROOT, "S7 %s #%d: CPU ms of its threads in each warm play: %s", who, r,
          busiest.get(who)));
    }
    report.add("s7.warm-origin-MB", originBytesSince(mark, Duration.ofSeconds(60)) / 1e6);
  }

  /** The PID of server {@code who} (varnish: its manager, whose child serves; "direct": the origin). */
  private long serverPid(String who) {
    return switch (who) {
      case "direct" -> origin.pid();
      case "nginx" -> proxy.pid();
      case "varnish" -> varnish.pid();
      case "cs" -> cs.pid();
      case "cs-ra" -> csRa.pid();
      default -> throw new IllegalArgumentException(who);
    };
  }

  /**
   * Waits until 20 ms past a wall-clock second. nginx's {@code limit_rate} allows {@code rate × (whole seconds
   * since the request started + 1)} bytes, on a clock of whole seconds, so a rate-limited transfer's duration depends
   * on where in a second it starts: starting every compared transfer at the same point makes them comparable.
   */
  private static void alignToSecond() {
    long ms = System.currentTimeMillis() % 1000;
    Nginx.sleepMillis(ms <= 20 ? 20 - ms : 1020 - ms);
  }

  private void rss() throws Exception {
    String path = "/big.bin";
    for (int r = 0; r < runs; r++) {
      for (String who : present("nginx", "varnish", "cs")) {
        int port = portFor(who);
        String target = URI.create(urlFor(who, path)).getRawPath();
        report.add("rss." + who + ".idle-MiB", rssOf(who) / 1024.0);
        List<Socket> sockets = new ArrayList<>();
        try {
          byte[] request = ("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII);
          for (int i = 0; i < rssConnections; i++) {
            Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
            sockets.add(s);
            s.getOutputStream().write(request);
            s.getOutputStream().flush();
          }
          // Let every response start and fill the socket buffers.
          long settle = quick ? 500 : 2000;
          long max = 0;
          long end = System.currentTimeMillis() + settle;
          while (System.currentTimeMillis() < end) {
            max = Math.max(max, rssOf(who));
            Nginx.sleepMillis(100);
          }
          int responding = 0;
          for (Socket s : sockets) {
            if (s.getInputStream().available() > 0) {
              responding++;
            }
          }
          report.add("rss." + who + ".MiB", Math.max(max, rssOf(who)) / 1024.0);
          report.add("rss." + who + ".responding-connections", responding);
        } finally {
          for (Socket s : sockets) {
            s.close();
          }
        }
        Nginx.sleepMillis(quick ? 200 : 1000);
      }
    }
  }

  /** {@code who}'s resident memory in KiB; varnish's is that of its manager and its children. */
  private long rssOf(String who) throws IOException {
    return who.equals("varnish") ? varnish.rssKiB() : rssKiB(serverPid(who));
  }

  static long rssKiB(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IOException("no VmRSS for pid " + pid);
  }

  private void ready() throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).build();
    // CacheStream: write the entries in the on-disk format (store/*.java): a data file and a meta.json each.
    Path dir = work.resolve("cs-ready");
    long t0 = System.nanoTime();
    writeEntries(dir, entries);
    log(String.format(Locale.ROOT, "wrote %d CacheStream entries in %.1f s", entries, (System.nanoTime() - t0) / 1e9));
    for (int r = 0; r < runs; r++) {
      CsDaemon d = CsDaemon.start("ready-" + r, launcher, dir, work.resolve("cs-ready-" + r + ".log"), origin.port,
          List.of());
      try {
        report.add("ready.cs.serving-s", d.readyNanos / 1e9);
        report.add("ready.cs.healthz-s", firstOk(http, d.base() + "/healthz", d.startNanos) / 1e9);
        if (r == 0) {
          verifyEntries(http, d);
        }
      } finally {
        d.stop();
      }
    }
    // nginx: the same number of entries through the proxy, then restarts on that cache.
    t0 = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Integer>> statuses = new ArrayList<>();
      for (int i = 0; i < entries; i++) {
        URI uri = URI.create(proxy.url("/tiny.bin?n=" + i));
        statuses.add(pool.submit(() -> http.send(HttpRequest.newBuilder(uri).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode()));
      }
      for (Future<Integer> s : statuses) {
        if (s.get(60, TimeUnit.SECONDS) != 200) {
          throw new IllegalStateException("nginx proxy answered " + s.get() + " while filling its cache");
        }
      }
    } finally {
      pool.shutdownNow();
    }
    log(String.format(Locale.ROOT, "cached %d entries in nginx in %.1f s", entries, (System.nanoTime() - t0) / 1e9));
    Nginx.sleepMillis(1000);
    for (int r = 0; r < runs; r++) {
      proxy.stop();
      long start = System.nanoTime();
      proxy.start();
      report.add("ready.nginx.first-200-s", firstOk(http, proxy.url("/tiny.bin?n=7"), start) / 1e9);
    }
  }

  /** Nanoseconds from {@code since} to the first 200 answer of {@code url}, polled every 2 ms for at most 30 s. */
  private static long firstOk(HttpClient http, String url, long since) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build();
    while (System.nanoTime() < deadline) {
      try {
        if (http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return System.nanoTime() - since;
        }
      } catch (IOException notYet) {
        // Not listening yet.
      }
      Thread.sleep(2);
    }
    throw new IllegalStateException("no 200 from " + url + " within 30 s");
  }

  /**
   * Writes {@code n} complete 1 KiB entries for {@code /tiny.bin?n=i} on the origin, the way a checkpoint leaves
   * them: {@code entries/<2 hex>/<sha256(key)>/data} and {@code meta.json} (what {@link EntryMeta} serializes to),
   * under the directory's lock.
   */
  private void writeEntries(Path dir, int n) throws IOException {
    byte[] data = Files.readAllBytes(www.resolve("tiny.bin"));
    long now = System.currentTimeMillis();
    try (CacheStore store = CacheStore.open(dir)) {
      for (int i = 0; i < n; i++) {
        String url = origin.url("/tiny.bin?n=" + i);
        Path entry = Files.createDirectories(store.entryDir(url));
        Files.write(entry.resolve("data"), data);
        EntryMeta meta = new EntryMeta(EntryMeta.FORMAT_VERSION, url, url, null, (long) data.length,
            "application/octet-stream", null, null, Map.of(), List.of(new long[] {0, data.length}), true, now, now,
            now, null);
        Files.write(entry.resolve("meta.json"), JSON.writeValueAsBytes(meta));
      }
    }
  }

  /** The daemon lists every written entry and serves one of them without asking the origin. */
  private void verifyEntries(HttpClient http, CsDaemon d) throws Exception {
    HttpResponse<String> list = http.send(HttpRequest.newBuilder(URI.create(d.base() + "/api/entries")).build(),
        HttpResponse.BodyHandlers.ofString());
    JsonNode entriesJson = JSON.readTree(list.body());
    if (list.statusCode() != 200 || entriesJson.size() != entries) {
      throw new IllegalStateException("the daemon lists " + entriesJson.size() + " entries, expected " + entries);
    }
    long mark = logMark();
    HttpResponse<byte[]> one = http.send(HttpRequest.newBuilder(URI.create(d.url("/tiny.bin?n=7"))).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    // Only this file counts: earlier scenarios' whole-file downloads may still be finishing.
    long originBytes = originBytesSince(mark, Duration.ofSeconds(10), "/tiny.bin");
    if (one.statusCode() / 100 != 2 || one.body().length != 1024 || originBytes != 0) {
      throw new IllegalStateException("a pre-written entry was not served from the cache: HTTP " + one.statusCode()
          + ", " + one.body().length + " bytes, origin sent " + originBytes);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Report

  private void buildRows() {
    Report rep = report;
    List<Report.Row> rows = rep.rows;
    Report.Better hi = Report.Better.HIGHER;
    Report.Better lo = Report.Better.LOWER;
    String big = bigSize >= 1024 * MIB ? "1 GiB" : (bigSize / MIB) + " MiB";
    String mid = (midSize / MIB) + " MiB";

    Double n = rep.median("s1.nginx.MBps");
    Double v = rep.median("s1.varnish.MBps");
    Double c = rep.median("s1.cs.MBps");
    rows.add(new Report.Row("S1", "hot " + big + " single stream, MB/s", hi, null, n, v, c, "≥ 1.35× nginx",
        atLeast(ratio(c, n), 1.35), null));

    n = rep.median("s2.nginx.rps");
    v = rep.median("s2.varnish.rps");
    c = rep.median("s2.cs.rps");
    rows.add(new Report.Row("S2", "hot 1 MiB, wrk -c64: req/s", hi, null, n, v, c, "≥ 1.5× nginx",
        atLeast(ratio(c, n), 1.5), null));
    n = rep.median("s2.nginx.p99ms");
    v = rep.median("s2.varnish.p99ms");
    c = rep.median("s2.cs.p99ms");
    rows.add(new Report.Row("S2", "hot 1 MiB, wrk -c64: p99 ms", lo, null, n, v, c, "≤ nginx", atMost(c, n),
        null));

    String c3 = "wrk -c" + s3Connections;
    n = rep.median("s3.nginx.rps");
    v = rep.median("s3.varnish.rps");
    c = rep.median("s3.cs.rps");
    rows.add(new Report.Row("S3", c3 + ": req/s", hi, null, n, v, c, "≥ nginx", atLeast(c, n), null));
    n = sum("s3.nginx.errors");
    v = sum("s3.varnish.errors");
    c = sum("s3.cs.errors");
    rows.add(new Report.Row("S3", c3 + ": errors (all runs)", lo, null, n, v, c, "0", c == null ? null : c == 0,
        "socket errors + non-2xx"));
    n = rep.median("s3.nginx.p99ms");
    v = rep.median("s3.varnish.p99ms");
    c = rep.median("s3.cs.p99ms");
    rows.add(new Report.Row("S3", c3 + ": p99 ms", lo, null, n, v, c, "—", null, null));

    Double d = rep.median("s4.direct.total-s");
    n = rep.median("s4.nginx.total-s");
    v = rep.median("s4.varnish.total-s");
    c = rep.median("s4.cs.total-s");
    rows.add(new Report.Row("S4", "cold " + mid + " via 50 MiB/s origin: total s", lo, d, n, v, c, "≤ 1.01× direct",
        atMost(ratio(c, d), 1.01), "CS ÷ direct " + Report.ratio(ratio(c, d)) + ", nginx ÷ direct "
            + Report.ratio(ratio(n, d)) + (varnish == null ? "" : ", varnish ÷ direct " + Report.ratio(ratio(v, d)))));
    d = rep.median("s4.direct.ttfb-ms");
    n = rep.median("s4.nginx.ttfb-ms");
    v = rep.median("s4.varnish.ttfb-ms");
    c = rep.median("s4.cs.ttfb-ms");
    rows.add(new Report.Row("S4", "cold " + mid + ": TTFB ms", lo, d, n, v, c, "≤ 2 ms", atMost(c, 2.0), null));

    n = rep.median("s5.nginx.ttfb-ms");
    v = rep.median("s5.varnish.ttfb-ms");
    c = rep.median("s5.cs.ttfb-ms");
    rows.add(new Report.Row("S5", "2nd client joins at " + num(s5JoinMillis / 1000.0) + " s: its TTFB ms", lo, null,
        n, v, c, "≤ 2 ms", atMost(c, 2.0), null));
    n = rep.median("s5.nginx.origin-per-client-bytes");
    v = rep.median("s5.varnish.origin-per-client-bytes");
    c = rep.median("s5.cs.origin-per-client-bytes");
    rows.add(new Report.Row("S5", "origin bytes ÷ client bytes", lo, null, n, v, c, "≤ 0.51", atMost(c, 0.51),
        null));

    String asked = num(rangeLength / 1e6);
    d = rep.median("s6.direct.ttfb-ms");
    n = rep.median("s6.nginx.ttfb-ms");
    v = rep.median("s6.varnish.ttfb-ms");
    for (String who : List.of("cs", "cs-ra")) {
      String policy = who.equals("cs") ? "default policy" : "read-ahead " + (readAhead / MIB) + " MiB";
      c = rep.median("s6." + who + ".ttfb-ms");
      rows.add(new Report.Row("S6", "cold far " + asked + " MB range: TTFB ms, " + policy, lo, d, n, v, c,
          "≤ direct + 2 ms", d == null ? null : atMost(c, d + 2), null));
    }
    Double dBytes = rep.median("s6.direct.origin-MB");
    n = rep.median("s6.nginx.origin-MB");
    v = rep.median("s6.varnish.origin-MB");
    c = rep.median("s6.cs.origin-MB");
    rows.add(new Report.Row("S6", "origin MB, default policy", lo, dBytes, n, v, c, "—", null,
        "whole-file policy: the rest of the file is downloaded too"
            + (varnish == null ? "" : "; varnish fetches the whole object on a miss, whatever the range")));
    c = rep.median("s6.cs-ra.origin-MB");
    double limit = (rangeLength + readAhead) / 1e6;
    rows.add(new Report.Row("S6", "origin MB, read-ahead " + (readAhead / MIB) + " MiB", lo, dBytes, n, v, c,
        "≤ asked + read-ahead (" + num(limit) + ")", atMost(c, limit), null));

    for (String phase : List.of("cold", "warm")) {
      n = rep.median("s7.nginx." + phase + "-s");
      v = rep.median("s7.varnish." + phase + "-s");
      d = phase.equals("cold") ? rep.median("s7.direct.cold-s") : null;
      for (String who : List.of("cs", "cs-ra")) {
        String policy = who.equals("cs") ? "default" : "read-ahead";
        c = rep.median("s7." + who + "." + phase + "-s");
        rows.add(new Report.Row("S7", "ffprobe + ffmpeg -ss " + seekSeconds + ", " + phase + ": wall s, " + policy, lo,
            d, n, v, c, "≤ nginx", atMost(c, n), null));
      }
    }
    n = rep.median("s7.nginx.warm-cpu-ms");
    v = rep.median("s7.varnish.warm-cpu-ms");
    for (String who : List.of("cs", "cs-ra")) {
      c = rep.median("s7." + who + ".warm-cpu-ms");
      rows.add(new Report.Row("S7", "warm: server CPU ms per play, " + (who.equals("cs") ? "default" : "read-ahead"),
          lo, null, n, v, c, "—", null, "every thread of the server's processes (schedstat); the server's share of "
              + "the play's wall time"));
    }
    Double read = rep.median("s7.direct.cold-origin-MB");
    n = rep.median("s7.nginx.cold-origin-MB");
    v = rep.median("s7.varnish.cold-origin-MB");
    String mp4 = String.format(Locale.ROOT, "%.1f MB MP4", videoSize / 1e6);
    c = rep.median("s7.cs.cold-origin-MB");
    rows.add(new Report.Row("S7", "cold origin MB (" + mp4 + "), default", lo, read, n, v, c, "—", null,
        "direct = what the player read"));
    c = rep.median("s7.cs-ra.cold-origin-MB");
    rows.add(new Report.Row("S7", "cold origin MB, read-ahead", lo, read, n, v, c, "≤ player read (direct)",
        read == null ? null : atMost(c, read), null));

    n = rep.median("rss.nginx.MiB");
    v = rep.median("rss.varnish.MiB");
    c = rep.median("rss.cs.MiB");
    rows.add(new Report.Row("RSS", "resident MiB with " + rssConnections + " open GETs", lo, null, n, v, c,
        "≤ 256 MiB", atMost(c, 256.0), "idle: nginx " + num(rep.median("rss.nginx.idle-MiB"))
            + (varnish == null ? "" : ", varnish " + num(rep.median("rss.varnish.idle-MiB"))) + ", CS "
            + num(rep.median("rss.cs.idle-MiB")) + " MiB" + (varnish == null ? "" : "; varnish: its manager + child "
            + "process, whose malloc storage holds the cached objects")));

    n = rep.median("ready.nginx.first-200-s");
    c = rep.median("ready.cs.serving-s");
    rows.add(new Report.Row("Ready", "start → ready s, " + entries + " cached entries", lo, null, n, null, c,
        "≤ 1 s", atMost(c, 1.0), "CS: to `Serving on` (first /healthz 200: " + num(rep.median("ready.cs.healthz-s"))
            + " s; empty cache: " + num(rep.median("ready.cs.empty-cache-s")) + " s); nginx: to its first 200"
            + (varnish == null ? "" : "; varnish: not applicable, its malloc storage starts empty after a restart")));
  }

  private Double sum(String key) {
    List<Double> v = report.samples.get(key);
    return v == null ? null : v.stream().mapToDouble(Double::doubleValue).sum();
  }

  private static Double ratio(Double a, Double b) {
    return a == null || b == null || b == 0 ? null : a / b;
  }

  private static Boolean atLeast(Double v, double limit) {
    return v == null ? null : v >= limit;
  }

  private static Boolean atLeast(Double v, Double limit) {
    return v == null || limit == null ? null : v >= limit;
  }

  private static Boolean atMost(Double v, double limit) {
    return v == null ? null : v <= limit;
  }

  private static Boolean atMost(Double v, Double limit) {
    return v == null || limit == null ? null : v <= limit;
  }

  private static String num(double v) {
    return Report.num(v);
  }

  private void writeMarkdown(double elapsed) throws Exception {
    String svgName = markdown.getFileName().toString().replaceFirst("\\.md$", "") + ".svg";
    List<String> pre = new ArrayList<>();
    pre.add("Generated by `bash scripts/bench.sh" + (quick ? " --quick" : "") + " --runs " + runs
        + " --markdown …` on " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + String.format(Locale.ROOT,
            "; the whole run took %.0f s.", elapsed));
    pre.add("");
    pre.add("Machine: " + machine() + "; load average (1, 5, 15 min) " + loadAtStart + " at the start and "
        + loadAtEnd + " at the end of the run.");
    pre.add("");
    pre.add("Tools: " + versions() + ".");
    pre.add("");
    pre.add("Medians of " + runs + " run(s) (S1, S4 and S6: of " + runs * samplesPerRun + " samples, "
        + samplesPerRun + " per run; S7: of " + runs * s7SamplesPerRun + " cold plays and "
        + runs * s7SamplesPerRun * warmPlays + " warm ones, " + warmPlays + " per server after each round of cold "
        + "ones, the servers taking turns play by play); every "
        + "CacheStream figure also as a ratio to nginx's (CacheStream ÷ nginx) and to varnish's (CacheStream ÷ "
        + "varnish). \"direct\" is the same request straight to the origin. Targets are those of issue 7, stated "
        + "against nginx.");
    pre.add("");
    pre.add("Setup, all on 127.0.0.1 on free ports: an nginx **origin** (`limit_rate` locations of 50, 20 and 1 MiB/s, "
        + "`keepalive_timeout 0`, access log `$uri $status $body_bytes_sent` to count origin bytes); **nginx as "
        + "caching proxy** (`proxy_cache` + `slice 1m`, key `$uri$is_args$args$slice_range`, `proxy_set_header Range "
        + "$slice_range`, `proxy_cache_valid 200 206 1h`, `proxy_buffering on`, `proxy_cache_lock on`); "
        + (varnish == null ? "**Varnish** as a second peer when it is installed (it was not: no varnish figures); "
            : "**Varnish** as a second caching proxy (`varnishd -F -j none -s malloc," + varnishStorage + "`, the "
            + "manager in the foreground and its child serving; VCL 4.1 with the origin as its one backend and "
            + "`vcl_backend_response { set beresp.ttl = 1h; set beresp.do_stream = true; }`: everything cached for an "
            + "hour and streamed while it is fetched, the rest builtin, plus `PURGE`, with which the bench drops each S6 "
            + "sample's 1 GiB object once it is counted; `-j none` runs it as the bench's user, who "
            + "owns the private work directory); ")
        + "**CacheStream** twice, `bin/cachestream serve` (a copy of the launcher and the jar, with the class-data "
        + "archive `mvn package` records; the launcher caps the heap at 128 MiB) with the default (whole-file) "
        + "policy and with "
        + "`--read-ahead " + readAhead + "`. Both nginx run as one process (`master_process off; daemon off;`, as in "
        + "the project's test fixtures), so nginx uses one core; varnish has its default worker threads, two pools "
        + "of 100 to 5000 (`thread_pools 2`, `thread_pool_min 100`, `thread_pool_max 5000`), one thread per request "
        + "in progress; CacheStream runs one event loop per core. wrk, curl and the servers share the machine's "
        + "cores.");
    pre.add("");
    pre.add("Scenarios: S1 curl of the hot " + (bigSize / MIB) + " MiB file (every cache warmed first); S2/S3 `wrk -t2 "
        + "-c64|-c" + s3Connections + " -d" + wrkSeconds + "s --latency` on the hot 1 MiB file; S4 cold (`?run=N`, a "
        + "fresh key) full download of the " + (midSize / MIB) + " MiB file through the 50 MiB/s location; S5 the same "
        + "file through the " + s5Location.substring(2) + " MiB/s location, a second curl joining after "
        + num(s5JoinMillis / 1000.0) + " s; S6 cold `Range: bytes=" + rangeStart + "-" + (rangeStart + rangeLength - 1)
        + "` of the big file through the unthrottled location (origin bytes counted once every origin connection has "
        + "closed, so a download that goes on after the response counts); S7 `ffprobe` then `ffmpeg -ss " + seekSeconds
        + " -frames:v 1` on a " + videoSeconds + " s " + videoGeometry + " libx264 ultrafast MP4 (not faststart: moov "
        + "at the end) through the 50 MiB/s location, cold then warm (the server's CPU time over the warm plays from "
        + "every thread's `schedstat`); RSS = VmRSS of the server process (varnish: of "
        + "its manager and child together, the child's including the malloc storage, i.e. the cached objects) with "
        + rssConnections + " sockets each holding a GET of the hot big file without reading; Ready = " + entries
        + " cached entries (CacheStream: written in its on-disk format, then checked by `/api/entries` and a "
        + "cached GET; nginx: fetched through it), then the server restarted; not for varnish, whose malloc storage "
        + "does not survive a restart.");
    pre.add("");
    pre.add("Warm-up: before S2, every server (both CacheStream daemons too) serves the hot 1 MiB file under `wrk "
        + "-t2 -c64` for " + hotWarmUpSeconds + " s, unmeasured, so that the hot scenarios time the JVM's compiled hot "
        + "path (a fresh daemon's first seconds under load showed a p99 of 0.5 s while it compiled). Before S4, every "
        + "server answers the same " + warmUpRequests + " cold requests (a fresh key each, "
        + "one connection each, a 1 KiB file, half of them ranged), then " + warmUpRequests + " requests of one "
        + "cached key, one connection each too, then " + warmUpRequests + " seeks of a player into the cached MP4 "
        + "(an open range from a different offset each, the connection dropped after " + SEEK_READ / 1024 + " KiB), "
        + "so that S4, S6 and S7 (a player opens a connection per seek) time the "
        + "JVM's compiled paths, as in a daemon that has been running for a while, rather than its first few "
        + "interpreted runs. "
        + "nginx and varnish need no warm-up but get the same requests.");
    pre.add("Cold scenarios (S4, S6, S7): before each measured request the bench runs `sync`, so that the previous "
        + "server's freshly cached bytes are not written back under the next one's measurement, then waits (at most "
        + "5 s) until the machine is 90 % idle over 100 ms, so that no server's background work runs under another's "
        + "measurement; the order of the servers rotates from run to run (S4, S7), or (S6) cycles through four "
        + "orders that put every cache equally often right after a sample that fetched far more than its range "
        + "(varnish's whole object, the default daemon's rest of the file), where samples ran slow far more often. "
        + "Before S6 every server also answers "
        + FAR_WARM_UPS + " unmeasured far ranges of the mid-size file, so that S6 times a far seek's compiled path, "
        + "and before each S6 sample the bench reads the big file from the range's start to its end, so that the "
        + "origin answers from the page cache whatever a server asks it for (this VM drops page cache in the "
        + "background, and the origin sends its head only with its first 2 MiB of body).");
    pre.add("");
    pre.add("About the rate-limited origin: nginx's `limit_rate` is per connection and allows `rate × (whole seconds "
        + "since the request started + 1)` bytes, so the first second's worth leaves at once, and a 64 MiB file at "
        + "50 MiB/s takes about 1 s. Every rate-limited transfer is started 20 ms after a wall-clock second, so direct "
        + "and proxied runs see the same schedule. nginx's `slice` fetches each MiB over its own origin connection, "
        + "each with its own first-second allowance: through the nginx peer, a rate-limited origin is effectively not "
        + "limited (S4, S5), while CacheStream's single origin connection is. varnish, too, fetches an object over one "
        + "origin connection, and the whole object on a miss, even for a range request (S6, S7).");
    if (report.samples.containsKey("s5.nginx.first-done-before-join")) {
      report.notes.add("S5: the nginx peer had fetched the whole file before the second client joined (see the note "
          + "on slices above), so its second client was served hot.");
    }
    if (report.samples.containsKey("s5.varnish.first-done-before-join")) {
      report.notes.add("S5: varnish's first download ended before the second client joined.");
    }
    if (report.samples.containsKey("s5.cs.first-done-before-join")) {
      report.notes.add("S5: CacheStream's first download ended before the second client joined.");
    }
    String md = report.markdown("CacheStream vs nginx" + (varnish == null ? "" : " and varnish") + ": scenario "
        + "benchmark", pre, svgName);
    Path parent = markdown.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Files.writeString(markdown, md);
    Files.writeString(parent.resolve(svgName), report.svg("CacheStream vs nginx (caching proxy), issue 7 scenarios"));
    log("wrote " + markdown + " and " + parent.resolve(svgName));
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "?";
    }
  }

  private static String machine() {
    String cpu = "?";
    String mem = "?";
    try {
      cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("?");
      mem = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
          .map(l -> Math.round(Long.parseLong(l.replaceAll("[^0-9]", "")) / 1048576.0) + " GiB").findFirst()
          .orElse("?");
    } catch (IOException ignored) {
      // Best effort.
    }
    return Runtime.getRuntime().availableProcessors() + " cores (" + cpu + "), " + mem + " RAM, Linux "
        + System.getProperty("os.version") + ", Java " + System.getProperty("java.version");
  }

  private static String versions() {
    List<String> v = new ArrayList<>();
    v.add(firstLine(Nginx.binary(), "-v"));
    if (Varnish.installed()) {
      v.add(firstLine(Varnish.binary(), "-V").replaceAll(".*\\((varnish-[^ ]+).*", "$1"));
    }
    v.add(firstLine("curl", "--version").replaceAll(" \\(.*", ""));
    v.add(firstLine("wrk", "-v").replaceAll(" \\[.*", ""));
    v.add(firstLine("ffmpeg", "-version").replaceAll(" Copyright.*", ""));
    return String.join(", ", v);
  }

  private static String firstLine(String... command) {
    try {
      Procs.Result r = Procs.run(Duration.ofSeconds(10), command);
      String all = (r.out() + "\n" + r.err()).strip();
      return all.isEmpty() ? command[0] + " ?" : all.lines().filter(l -> !l.isBlank()).findFirst().orElse("?").strip();
    } catch (Exception e) {
      return command[0] + " ?";
    }
  }

  static void deleteTree(Path root) {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException ignored) {
          // Best effort.
        }
      });
    } catch (IOException ignored) {
      // Best effort.
    }
  }
}
