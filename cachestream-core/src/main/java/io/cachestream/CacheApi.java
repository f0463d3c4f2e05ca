package io.cachestream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The cache's own loopback API, mounted by the manager, so that the command line can manage the cache of a running
 * daemon instead of touching files under its feet:
 *
 * <pre>
 * GET    /api/entries[?filter=all|active|inactive]   → [entry, …]
 * GET    /api/entries/one?url=URL                    → entry, or 404
 * DELETE /api/entries?url=URL | ?inactive | ?all     → {"deleted": n}; 409 if the entry is in use
 * POST   /api/precache {"url": URL, "maxBytes": n, "maxBandwidth": n} → 202; then
 * GET    /api/precache?url=URL                       → {"state": "running|done|failed", "cachedBytes", "length", "error"}
 * </pre>
 *
 * An entry is {@code {url, finalUrl, length, cachedBytes, complete, created, lastAccess, active, contentType}}.
 */
final class CacheApi {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_JOBS = 1000;

  private final Supplier<CacheStreamManager> manager;
  private final Map<URI, CompletableFuture<CacheMetadata>> precaching = new ConcurrentHashMap<>();

  CacheApi(Supplier<CacheStreamManager> manager) {
    this.manager = manager;
  }

  LocalApi entries() {
    return (method, path, query, headers, body) -> {
      Map<String, String> params = params(query);
      CacheStreamManager m = manager.get();
      if (method.equals("GET") && path.equals("/")) {
        var filter = CacheStreamManager.EntryFilter.valueOf(params.getOrDefault("filter", "all").toUpperCase());
        ArrayNode list = JSON.createArrayNode();
        m.entries(filter).forEach(e -> list.add(toJson(m, e)));
        return ok(list);
      }
      if (method.equals("GET") && path.equals("/one")) {
        Optional<CacheMetadata> meta = m.metadata(url(params));
        return meta.isPresent() ? ok(toJson(m, meta.get())) : error(404, "no cache entry for " + params.get("url"));
      }
      if (method.equals("DELETE") && path.equals("/")) {
        ObjectNode result = JSON.createObjectNode();
        if (params.containsKey("url")) {
          try {
            result.put("deleted", m.delete(url(params)) ? 1 : 0);
          } catch (IllegalStateException e) {
            return error(409, e.getMessage());
          }
        } else if (params.containsKey("inactive") || params.containsKey("all")) {
          int deleted = m.deleteInactive();
          int active = m.entries(CacheStreamManager.EntryFilter.ACTIVE).size();
          result.put("deleted", deleted);
          if (params.containsKey("all") && active > 0) {
            return error(409, active + " entries are in use and were kept");
          }
        } else {
          return error(400, "say which entries: ?url=URL, ?inactive or ?all");
        }
        return ok(result);
      }
      return error(405, method + " " + path + " is not supported");
    };
  }

  LocalApi precache() {
    return (method, path, query, headers, body) -> {
      CacheStreamManager m = manager.get();
      if (method.equals("POST") && path.equals("/")) {
        JsonNode request = JSON.readTree(body);
        if (request == null || !request.hasNonNull("url")) {
          return error(400, "body must be {\"url\": URL, \"maxBytes\": n}");
        }
        URI url = URI.create(request.get("url").asText());
        long maxBandwidth = request.hasNonNull("maxBandwidth") ? request.get("maxBandwidth").asLong() : Long.MAX_VALUE;
        // Finished jobs stay for their callers to read, but not forever: a long-running daemon drops them in bulk.
        if (precaching.size() >= MAX_JOBS) {
          precaching.values().removeIf(CompletableFuture::isDone);
        }
        precaching.put(url, request.hasNonNull("maxBytes") ? m.preCache(url, request.get("maxBytes").asLong())
            : m.preCacheHls(url, maxBandwidth));
        ObjectNode accepted = JSON.createObjectNode().put("url", url.toString());
        return LocalApi.Response.json(202, JSON.writeValueAsBytes(accepted));
      }
      if (method.equals("GET") && path.equals("/")) {
        URI url = url(params(query));
        CompletableFuture<CacheMetadata> job = precaching.get(url);
        if (job == null) {
          return error(404, "no pre-cache of " + url + " was started");
        }
        ObjectNode state = JSON.createObjectNode();
        state.put("state", !job.isDone() ? "running" : job.isCompletedExceptionally() ? "failed" : "done");
        Optional<CacheMetadata> meta = m.metadata(url);
        state.put("cachedBytes", meta.map(CacheMetadata::cachedBytes).orElse(0L));
        if (meta.isPresent() && meta.get().length() != null) {
          state.put("length", meta.get().length());
        } else {
          state.putNull("length");
        }
        if (job.isCompletedExceptionally()) {
          job.handle((v, e) -> state.put("error", e.getCause() != null ? e.getCause().getMessage() : e.getMessage()))
              .join();
        }
        return ok(state);
      }
      return error(405, method + " " + path + " is not supported");
    };
  }

  static ObjectNode toJson(CacheStreamManager m, CacheMetadata e) {
    ObjectNode node = JSON.createObjectNode();
    node.put("url", e.source().toString());
    node.put("finalUrl", e.finalUrl());
    if (e.length() == null) {
      node.putNull("length");
    } else {
      node.put("length", e.length());
    }
    node.put("cachedBytes", e.cachedBytes());
    node.put("complete", e.complete());
    node.put("created", e.created().toString());
    node.put("lastAccess", e.lastAccess().toString());
    node.put("active", m.isActive(e.source()));
    node.put("contentType", e.headers().get("content-type"));
    return node;
  }

  private static URI url(Map<String, String> params) {
    String url = params.get("url");
    if (url == null) {
      throw new IllegalArgumentException("missing ?url=");
    }
    return URI.create(url);
  }

  private static Map<String, String> params(String query) {
    Map<String, String> params = new HashMap<>();
    if (query == null || query.isEmpty()) {
      return params;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      params.put(name, value);
    }
    return params;
  }

  private static LocalApi.Response ok(JsonNode node) throws IOException {
    return LocalApi.Response.json(200, JSON.writeValueAsBytes(node));
  }

  private static LocalApi.Response error(int status, String message) throws IOException {
    return LocalApi.Response.json(status, JSON.writeValueAsBytes(JSON.createObjectNode().put("error", message)));
  }
}
