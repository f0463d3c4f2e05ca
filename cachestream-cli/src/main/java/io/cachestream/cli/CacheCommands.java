package io.cachestream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code precache}, {@code ls} and {@code rm}: managing the stream cache from the command line. */
final class CacheCommands {
  private CacheCommands() {}

  static String encode(String url) {
    return URLEncoder.encode(url, StandardCharsets.UTF_8);
  }

  @Command(name = "precache", mixinStandardHelpOptions = true,
      description = "Download URLs (or their first --max-bytes) into the cache, with progress on stderr; for an HLS "
          + "playlist, also one variant and all its segments, keys and init sections.")
  static final class Precache implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "URL", description = "http(s) URLs to cache")
    List<URI> urls;

    @Option(names = "--max-bytes", paramLabel = "N", description = "Cache only the first N bytes of each URL.")
    Long maxBytes;

    @Option(names = "--max-bandwidth", paramLabel = "BPS",
        description = "For an HLS master playlist: the variant with the highest BANDWIDTH at or below BPS "
            + "(default: the highest).")
    Long maxBandwidth;

    @Mixin
    CacheDirOption dir;

    @Override
    public Integer call() throws Exception {
      if (maxBytes != null && maxBytes < 0) {
        throw new IllegalArgumentException("--max-bytes must not be negative: " + maxBytes);
      }
      if (maxBandwidth != null && maxBandwidth < 0) {
        throw new IllegalArgumentException("--max-bandwidth must not be negative: " + maxBandwidth);
      }
      int failed = 0;
      try (CacheAccess cache = CacheAccess.open(dir.cacheDir)) {
        for (URI url : urls) {
          var body = CacheAccess.json().createObjectNode().put("url", url.toString());
          if (maxBytes != null) {
            body.put("maxBytes", maxBytes);
          }
          if (maxBandwidth != null) {
            body.put("maxBandwidth", maxBandwidth);
          }
          cache.call("POST", "/api/precache", body);
          String error = follow(cache, url);
          if (error != null) {
            System.err.println("cachestream: precache " + url + " failed: " + error);
            failed++;
          }
        }
      }
      return failed == 0 ? 0 : 1;
    }

    /** Shows progress until the pre-cache ends; returns its error, or null. */
    private String follow(CacheAccess cache, URI url) throws IOException, InterruptedException {
      try (ProgressReport progress = ProgressReport.start("precache " + url, System.err)) {
        while (true) {
          JsonNode state = cache.call("GET", "/api/precache?url=" + encode(url.toString()), null);
          long length = state.get("length").isNull() ? -1 : state.get("length").asLong();
          long goal = maxBytes == null || length < 0 ? length : Math.min(maxBytes, length);
          progress.update(state.get("cachedBytes").asLong(), goal);
          switch (state.get("state").asText()) {
            case "done":
              return null;
            case "failed":
              return state.path("error").asText("unknown error");
            default:
              Thread.sleep(200);
          }
        }
      }
    }
  }

  @Command(name = "ls", mixinStandardHelpOptions = true, description = "List cache entries.")
  static final class Ls implements Callable<Integer> {
    @Option(names = "--json", description = "Print a JSON array (url, length, cachedBytes, complete, lastAccess, …).")
    boolean json;

    @Mixin
    CacheDirOption dir;

    @Override
    public Integer call() throws Exception {
      try (CacheAccess cache = CacheAccess.open(dir.cacheDir)) {
        ArrayNode entries = (ArrayNode) cache.call("GET", "/api/entries", null);
        PrintStream out = System.out;
        if (json) {
          out.println(CacheAccess.json().writerWithDefaultPrettyPrinter().writeValueAsString(entries));
          return 0;
        }
        out.printf("%-12s %7s %-8s %-24s %s%n", "SIZE", "CACHED", "COMPLETE", "LAST ACCESS", "URL");
        for (JsonNode e : entries) {
          long cached = e.get("cachedBytes").asLong();
          boolean known = !e.get("length").isNull();
          long length = known ? e.get("length").asLong() : -1;
          String percent = known && length > 0 ? String.format("%.1f%%", 100.0 * cached / length)
              : known ? "100.0%" : "?";
          out.printf("%-12s %7s %-8s %-24s %s%n", known ? String.valueOf(length) : "unknown", percent,
              e.get("complete").asBoolean() ? "yes" : "no", e.get("lastAccess").asText(), e.get("url").asText());
        }
        return 0;
      }
    }
  }

  @Command(name = "rm", mixinStandardHelpOptions = true,
      description = "Delete cache entries: one URL, every inactive entry, or all.")
  static final class Rm implements Callable<Integer> {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Which which;

    static final class Which {
      @Parameters(paramLabel = "URL", description = "the URL whose entry to delete")
      URI url;

      @Option(names = "--inactive", description = "Delete every entry nobody uses now.")
      boolean inactive;

      @Option(names = "--all", description = "Delete every entry (fails for entries a daemon is serving).")
      boolean all;
    }

    @Mixin
    CacheDirOption dir;

    @Override
    public Integer call() throws Exception {
      String query = which.url != null ? "url=" + encode(which.url.toString()) : which.all ? "all" : "inactive";
      try (CacheAccess cache = CacheAccess.open(dir.cacheDir)) {
        JsonNode result = cache.call("DELETE", "/api/entries?" + query, null);
        if (which.url != null && result.get("deleted").asInt() == 0) {
          throw new IOException("no cache entry for " + which.url);
        }
        System.err.println("deleted " + result.get("deleted").asInt() + " entr"
            + (result.get("deleted").asInt() == 1 ? "y" : "ies"));
        return 0;
      }
    }
  }

  /** The {@code --cache-dir} option of the commands that manage a cache. */
  static final class CacheDirOption {
    @Option(names = "--cache-dir", paramLabel = "DIR", description = "Cache directory (the one serve uses).")
    Path cacheDir;
  }
}
