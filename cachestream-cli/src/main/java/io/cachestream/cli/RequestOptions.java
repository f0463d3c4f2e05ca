package io.cachestream.cli;

import io.cachestream.background.BackgroundHttpClient;
import io.cachestream.background.RequestInfo;
import io.cachestream.background.RequestSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the CLI and the HTTP API both accept for a new request, turned into an enqueue call. Keeps the two front ends
 * from drifting apart in how they read headers, bodies and form parts.
 */
record RequestOptions(
    String method,
    String url,
    Map<String, String> headers,
    Map<String, String> query,
    byte[] body,
    Path bodyFile,
    Map<String, String> form,
    Map<String, Path> files,
    int retries,
    Duration timeout,
    String id) {

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)?");

  /** Enqueues the request; a body and form parts are mutually exclusive, and form parts need POST. */
  RequestInfo enqueue(BackgroundHttpClient client) throws IOException {
    RequestSpec.Builder spec = RequestSpec.builder().retries(retries);
    headers.forEach(spec::addHeader);
    query.forEach(spec::addQuery);
    if (timeout != null) spec.timeout(timeout);
    if (id != null) spec.id(id);
    boolean multipart = !form.isEmpty() || !files.isEmpty();
    if (multipart) {
      if (body != null || bodyFile != null) throw new IllegalArgumentException("use either a body or form fields, not both");
      if (!method.equalsIgnoreCase("POST")) throw new IllegalArgumentException("form fields and files need POST, not " + method);
      return client.postMultipart(url, form, files, spec.build());
    }
    if (body != null) spec.body(body);
    if (bodyFile != null) spec.bodyFile(bodyFile);
    return client.send(method, url, spec.build());
  }

  /** {@code 30s}, {@code 500ms}, {@code 2m}, {@code 1h}, a bare number of seconds, or ISO-8601 ({@code PT30S}). */
  static Duration parseDuration(String text) {
    Matcher m = DURATION.matcher(text.trim());
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      String unit = m.group(2) == null ? "s" : m.group(2);
      return switch (unit) {
        case "ms" -> Duration.ofMillis(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofSeconds(n);
      };
    }
    try {
      return Duration.parse(text.trim());
    } catch (java.time.format.DateTimeParseException e) {
      throw new IllegalArgumentException("timeout must look like 30s, 500ms, 2m or PT30S, got '" + text + "'");
    }
  }

  /** Splits {@code "K: V"} header arguments. */
  static Map<String, String> headers(List<String> raw) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String h : raw) {
      int colon = h.indexOf(':');
      if (colon <= 0) throw new IllegalArgumentException("header must look like 'Name: value', got '" + h + "'");
      out.put(h.substring(0, colon).trim(), h.substring(colon + 1).trim());
    }
    return out;
  }

  /** Splits {@code k=v} arguments (for {@code what} in error messages: "query", "form"). */
  static Map<String, String> pairs(String what, List<String> raw) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String p : raw) {
      int eq = p.indexOf('=');
      if (eq <= 0) throw new IllegalArgumentException(what + " must look like name=value, got '" + p + "'");
      out.put(p.substring(0, eq), p.substring(eq + 1));
    }
    return out;
  }

  /** Splits {@code name=@path} (the {@code @} is optional) and checks the files exist. */
  static Map<String, Path> files(List<String> raw) {
    Map<String, Path> out = new LinkedHashMap<>();
    pairs("file", raw).forEach((name, value) -> {
      Path path = Path.of(value.startsWith("@") ? value.substring(1) : value);
      if (!Files.isRegularFile(path)) throw new IllegalArgumentException("file '" + name + "' does not exist: " + path);
      out.put(name, path);
    });
    return out;
  }
}
