package io.cachestream.cli;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.cachestream.LocalApi;
import io.cachestream.background.BackgroundHttpClient;
import io.cachestream.background.RequestInfo;
import io.cachestream.background.RequestStatus;
import io.cachestream.background.ResponseInfo;
import io.cachestream.background.StatusInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import okhttp3.HttpUrl;

/**
 * The background client over the daemon's loopback API, mounted at {@code /api/requests}:
 *
 * <pre>
 * POST   /                create; JSON body {method, url, headers, query, body | bodyBase64 | bodyFile, form, files,
 *                          retries, timeoutSeconds, id} → 201 {"id": …}
 * GET    /                list (optional ?status=in_progress|completed|failed|cancelled) → 200 [status…]
 * GET    /{id}            status → 200 {id, status, attempts, …}
 * GET    /{id}/response   saved response → 200 {statusCode, headers, bodyFile, …}; 404 while there is none
 * DELETE /{id}            cancel if in progress, then delete → 204
 * </pre>
 *
 * Errors are JSON {@code {"error": "…"}}: 400 for invalid input, 404 for unknown ids, 405 for other methods, 409 for a
 * duplicate id. Thread-safe: the client is.
 */
public final class RequestsApi implements LocalApi {
  private final BackgroundHttpClient client;

  public RequestsApi(BackgroundHttpClient client) {
    this.client = client;
  }

  /** The body of {@code POST /}; mirrors the CLI's options. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Create(
      String method,
      String url,
      Map<String, String> headers,
      Map<String, String> query,
      String body,
      String bodyBase64,
      String bodyFile,
      Map<String, String> form,
      Map<String, String> files,
      Integer retries,
      Double timeoutSeconds,
      String id) {

    RequestOptions toOptions() {
      if (method == null || url == null) throw new IllegalArgumentException("method and url are required");
      if (body != null && bodyBase64 != null) throw new IllegalArgumentException("use either body or bodyBase64");
      byte[] bytes = body != null ? body.getBytes(java.nio.charset.StandardCharsets.UTF_8)
          : bodyBase64 != null ? Base64.getDecoder().decode(bodyBase64) : null;
      Map<String, Path> paths = new LinkedHashMap<>();
      if (files != null) files.forEach((k, v) -> paths.put(k, Path.of(v)));
      return new RequestOptions(
          method, url, orEmpty(headers), orEmpty(query), bytes, bodyFile == null ? null : Path.of(bodyFile),
          orEmpty(form), paths, retries == null ? 0 : retries,
          timeoutSeconds == null ? null : Duration.ofMillis(Math.round(timeoutSeconds * 1000)), id);
    }

    private static Map<String, String> orEmpty(Map<String, String> m) {
      return m == null ? Map.of() : m;
    }
  }

  @Override
  public Response handle(String method, String path, String query, Map<String, String> headers, byte[] body)
      throws IOException {
    List<String> segments = List.of(path.replaceAll("^/+|/+$", "").split("/+"));
    if (segments.size() == 1 && segments.get(0).isEmpty()) {
      return switch (method) {
        case "POST" -> create(body);
        case "GET", "HEAD" -> list(query);
        default -> error(405, "use GET or POST on the collection");
      };
    }
    String id = segments.get(0);
    if (segments.size() == 1) {
      return switch (method) {
        case "GET", "HEAD" -> client.status(id).map(s -> json(200, RequestJson.status(s))).orElseGet(() -> notFound(id));
        case "DELETE" -> client.delete(id) ? new Response(204, null, new byte[0]) : notFound(id);
        default -> error(405, "use GET or DELETE on a request");
      };
    }
    if (segments.size() == 2 && segments.get(1).equals("response")) {
      if (!method.equals("GET") && !method.equals("HEAD")) return error(405, "use GET on a response");
      Optional<StatusInfo> status = client.status(id);
      if (status.isEmpty()) return notFound(id);
      Optional<ResponseInfo> response = client.response(id);
      return response.map(r -> json(200, RequestJson.response(r)))
          .orElseGet(() -> error(404, "request '" + id + "' has no response (" + status.get().status().wireName() + ")"));
    }
    return error(404, "no such resource: " + path);
  }

  private Response create(byte[] body) throws IOException {
    Create create;
    try {
      create = RequestJson.MAPPER.readValue(body, Create.class);
    } catch (JsonProcessingException e) {
      return error(400, "invalid JSON: " + e.getOriginalMessage());
    }
    if (create == null) return error(400, "a JSON object is required");
    try {
      RequestInfo info = create.toOptions().enqueue(client);
      return json(201, Map.of("id", info.id()));
    } catch (IllegalArgumentException e) {
      return error(400, e.getMessage());
    } catch (IllegalStateException e) {
      return error(409, e.getMessage());
    }
  }

  private Response list(String query) throws IOException {
    HttpUrl url = HttpUrl.get("http://localhost/" + (query.isEmpty() ? "" : "?" + query));
    String wanted = url.queryParameter("status");
    RequestStatus status;
    try {
      status = wanted == null ? null : RequestStatus.fromWireName(wanted);
    } catch (IllegalArgumentException e) {
      return error(400, e.getMessage());
    }
    return json(200, client.list(s -> status == null || s.status() == status).stream().map(RequestJson::status).toList());
  }

  private static Response notFound(String id) {
    return error(404, "no request with id '" + id + "'");
  }

  private static Response error(int status, String message) {
    return json(status, RequestJson.error(message));
  }

  private static Response json(int status, Object value) {
    return Response.json(status, RequestJson.write(value).getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }
}
