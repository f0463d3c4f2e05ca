package io.cachestream.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * JDK Flight Recorder profiles of the CacheStream daemons, one recording per scenario and daemon
 * ({@code bench.sh --jfr DIR}): started and stopped around each scenario with {@code jcmd}, written as
 * {@code DIR/<scenario>-<daemon>.jfr}, and summed up in {@code DIR/profile.md}: where each daemon's threads were
 * sampled, in Java ({@code jdk.ExecutionSample}) and in native code ({@code jdk.NativeMethodSample}, e.g. a
 * {@code sendfile} or an {@code epoll_wait}).
 *
 * <p>Recording costs a little CPU (the {@code profile} settings sample every 10-20 ms), so a profiled run's numbers
 * are for finding where time goes, not for the table.
 */
final class JfrProfiles {
  private static final Pattern THREAD_NUMBER = Pattern.compile("([-#]\\d+)+$");
  private static final int TOP = 8;

  private final Path dir;
  private final String jcmd;
  private final List<Path> recordings = new ArrayList<>();

  JfrProfiles(Path dir) throws IOException {
    this.dir = Files.createDirectories(dir);
    this.jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
  }

  /** Starts one recording per daemon for {@code scenario}; returns a handle that stops them. */
  AutoCloseable record(String scenario, List<CsDaemon> daemons) throws IOException, InterruptedException {
    String name = slug(scenario);
    for (CsDaemon d : daemons) {
      Path file = dir.resolve(name + "-" + d.name + ".jfr");
      Procs.run(Duration.ofSeconds(30), jcmd, Long.toString(d.pid()), "JFR.start", "name=" + name,
          "settings=profile", "filename=" + file).check("jcmd JFR.start");
      recordings.add(file);
    }
    return () -> {
      for (CsDaemon d : daemons) {
        Procs.run(Duration.ofSeconds(60), jcmd, Long.toString(d.pid()), "JFR.stop", "name=" + name)
            .check("jcmd JFR.stop");
      }
    };
  }

  /** The first word of a scenario's name, as a file name: "S1 hot 1024 MiB stream" is {@code s1}. */
  static String slug(String scenario) {
    String first = scenario.strip().split("[\\s:]+", 2)[0];
    return first.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "");
  }

  /** Writes {@code profile.md} for every recording made, and returns its path. */
  Path summarize() throws IOException {
    StringBuilder md = new StringBuilder("# JFR profiles of the CacheStream daemons\n\n"
        + "One recording per scenario and daemon (`settings=profile`). *Java* samples are threads running Java "
        + "code (`jdk.ExecutionSample`), *native* samples threads inside a native method "
        + "(`jdk.NativeMethodSample`: a system call such as `sendfile`, or waiting in `epoll_wait`). Frames are "
        + "`class.method`; *self* is the sampled top frame, *in CacheStream* the innermost `io.cachestream` "
        + "frame of each Java sample (where our code spent it, callees included). JFR samples Java every 10-20 ms "
        + "and takes one native sample per period across all threads, so native counts say where threads sit "
        + "(idle event loops in `epoll_wait` dominate), not where CPU goes, and sub-millisecond requests in an "
        + "idle daemon are rarely seen.\n");
    for (Path file : recordings) {
      if (Files.isRegularFile(file)) {
        md.append('\n').append(summary(file));
      }
    }
    Path out = dir.resolve("profile.md");
    Files.writeString(out, md);
    return out;
  }

  /** One recording's summary: samples per thread group, then the top frames of each kind. */
  static String summary(Path file) throws IOException {
    Map<String, Integer> javaByThread = new HashMap<>();
    Map<String, Integer> nativeByThread = new HashMap<>();
    Map<String, Integer> javaSelf = new HashMap<>();
    Map<String, Integer> ours = new HashMap<>();
    Map<String, Integer> nativeSelf = new HashMap<>();
    int javaSamples = 0;
    int nativeSamples = 0;
    for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
      String type = e.getEventType().getName();
      boolean java = type.equals("jdk.ExecutionSample");
      if (!java && !type.equals("jdk.NativeMethodSample")) {
        continue;
      }
      String thread = threadGroup(e);
      RecordedStackTrace stack = e.getStackTrace();
      List<RecordedFrame> frames = stack == null ? List.of() : stack.getFrames();
      String top = frames.isEmpty() ? "(no stack)" : frameName(frames.get(0));
      if (java) {
        javaSamples++;
        javaByThread.merge(thread, 1, Integer::sum);
        javaSelf.merge(top, 1, Integer::sum);
        frames.stream().filter(f -> f.getMethod().getType().getName().startsWith("io.cachestream.")).findFirst()
            .ifPresent(f -> ours.merge(frameName(f), 1, Integer::sum));
      } else {
        nativeSamples++;
        nativeByThread.merge(thread, 1, Integer::sum);
        nativeSelf.merge(top + " ← " + caller(frames), 1, Integer::sum);
      }
    }
    StringBuilder md = new StringBuilder();
    md.append("## ").append(file.getFileName()).append("\n\n");
    md.append(String.format(Locale.ROOT, "%d Java samples, %d native samples.%n%n", javaSamples, nativeSamples));
    md.append("| thread | Java | native |\n|---|---:|---:|\n");
    Map<String, int[]> threads = new LinkedHashMap<>();
    javaByThread.forEach((t, n) -> threads.computeIfAbsent(t, k -> new int[2])[0] = n);
    nativeByThread.forEach((t, n) -> threads.computeIfAbsent(t, k -> new int[2])[1] = n);
    threads.entrySet().stream()
        .sorted(Comparator.comparingInt((Map.Entry<String, int[]> t) -> -(t.getValue()[0] + t.getValue()[1])))
        .limit(TOP)
        .forEach(t -> md.append("| ").append(t.getKey()).append(" | ").append(t.getValue()[0]).append(" | ")
            .append(t.getValue()[1]).append(" |\n"));
    table(md, "Java, self", javaSelf, javaSamples);
    table(md, "Java, in CacheStream", ours, javaSamples);
    table(md, "native, self ← caller", nativeSelf, nativeSamples);
    return md.toString();
  }

  private static void table(StringBuilder md, String title, Map<String, Integer> counts, int total) {
    if (counts.isEmpty()) {
      return;
    }
    md.append("\n| ").append(title).append(" | samples | share |\n|---|---:|---:|\n");
    counts.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .limit(TOP)
        .forEach(c -> md.append(String.format(Locale.ROOT, "| `%s` | %d | %.0f %% |%n", c.getKey(), c.getValue(),
            100.0 * c.getValue() / total)));
  }

  private static String threadGroup(RecordedEvent e) {
    var thread = e.getThread("sampledThread");
    String name = thread == null || thread.getJavaName() == null ? "?" : thread.getJavaName();
    return THREAD_NUMBER.matcher(name).replaceAll("");
  }

  private static String caller(List<RecordedFrame> frames) {
    // The first frame outside the JDK's and Netty's plumbing says who made the call.
    for (int i = 1; i < frames.size(); i++) {
      String type = frames.get(i).getMethod().getType().getName();
      if (!type.startsWith("java.") && !type.startsWith("sun.") && !type.startsWith("jdk.")) {
        return frameName(frames.get(i));
      }
    }
    return frames.size() > 1 ? frameName(frames.get(1)) : "?";
  }

  private static String frameName(RecordedFrame f) {
    String type = f.getMethod().getType().getName();
    return type.substring(type.lastIndexOf('.') + 1) + "." + f.getMethod().getName();
  }
}
