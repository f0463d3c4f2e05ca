package io.cachestream.cli;

import io.cachestream.CacheConfig;
import io.cachestream.CacheStreamManager;
import io.cachestream.LocalApi;
import io.cachestream.TransferMode;
import java.util.concurrent.atomic.AtomicReference;
import io.cachestream.background.BackgroundHttpClient;
import io.cachestream.background.BackgroundOptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * {@code cachestream serve}: runs the stream cache server and the background request queue of the cache dir until
 * SIGTERM or SIGINT, then checkpoints and exits 0.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Run the local stream cache server until SIGTERM/SIGINT.")
final class ServeCommand implements Callable<Integer> {
  @Option(names = "--port", defaultValue = "4612", description = "Port to listen on (0 picks a free one). Default: ${DEFAULT-VALUE}.")
  int port;

  @Option(names = "--bind", defaultValue = "127.0.0.1", description = "Address to bind. Default: ${DEFAULT-VALUE}.")
  String bind;

  @Option(names = "--cache-dir", description = "Cache directory. Default: $XDG_CACHE_HOME/cachestream or ~/.cache/cachestream.")
  Path cacheDir;

  @Option(names = "--split-threshold", description = "Bytes ahead of a running download that open a separate range download (from 256 KiB on, also when the download would take over 10 ms and twice the origin's answer time to get there); 'off' disables. Default: 2097152.")
  String splitThreshold;

  @Option(names = "--read-ahead", description = "Bytes downloaded past the furthest byte a client asked for; default: the whole file.")
  Long readAhead;

  @Option(names = "--transfer", defaultValue = "AUTO",
      description = "How cached bytes are sent: ${COMPLETION-CANDIDATES} (case-insensitive). Default: ${DEFAULT-VALUE}.")
  TransferMode transfer;

  @Option(names = "--max-cache-bytes", paramLabel = "BYTES",
      description = "Cache size budget; least recently used entries are evicted above it. Default: none.")
  Long maxCacheBytes;

  @Override
  public Integer call() throws Exception {
    CacheConfig.Builder builder = CacheConfig.builder().port(port).bindAddress(bind).readAhead(readAhead)
        .transferMode(transfer).maxCacheBytes(maxCacheBytes);
    if (cacheDir != null) {
      builder.cacheDir(cacheDir);
    }
    if (splitThreshold != null) {
      builder.rangeRequestSplitThreshold(splitThreshold.equals("off") ? null : Long.parseLong(splitThreshold));
    }
    Path dir = CacheAccess.cacheDirOrDefault(cacheDir);
    // The daemon also runs the background request queue of its data dir, reachable at /api/requests. The cache
    // opens first: it takes the directory's lock and reports an unusable or busy directory clearly.
    AtomicReference<RequestsApi> requestsApi = new AtomicReference<>();
    CacheStreamManager manager = CacheStreamManager.start(builder.api("requests", (method, path, query, headers, body) -> {
      RequestsApi api = requestsApi.get();
      return api != null ? api.handle(method, path, query, headers, body)
          : new LocalApi.Response(503, "text/plain", "starting\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }).build());
    BackgroundHttpClient requests;
    try {
      requests = BackgroundHttpClient.open(dir, BackgroundOptions.defaults());
    } catch (RuntimeException | java.io.IOException e) {
      manager.close();
      throw e;
    }
    requestsApi.set(new RequestsApi(requests));
    CountDownLatch stop = new CountDownLatch(1);
    // Handle the signals ourselves so that a requested stop exits 0 (the JVM default would be 128+signal).
    Signal.handle(new Signal("TERM"), s -> stop.countDown());
    Signal.handle(new Signal("INT"), s -> stop.countDown());
    CacheAccess.announce(dir, manager);
    System.out.println("Serving on " + manager.baseUrl());
    System.out.println("API token: " + manager.apiToken());
    System.out.flush();
    stop.await();
    CacheAccess.withdraw(dir);
    manager.close();
    requests.close();
    return 0;
  }
}
