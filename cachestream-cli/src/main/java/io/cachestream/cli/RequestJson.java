package io.cachestream.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.cachestream.background.ResponseInfo;
import io.cachestream.background.StatusInfo;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The JSON shapes scripts rely on, shared by {@code cachestream request … --json} and the {@code /api/requests} API.
 * Built as explicit maps so that renaming a Java accessor can never silently change the contract.
 */
final class RequestJson {
  static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private RequestJson() {}

  /** {@code id, status (in_progress|completed|failed|cancelled), attempts, retries, method, url, …}. */
  static Map<String, Object> status(StatusInfo s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", s.id());
    m.put("status", s.status().wireName());
    m.put("attempts", s.attempts());
    m.put("retries", s.retries());
    m.put("method", s.method());
    m.put("url", s.url());
    m.put("createdAt", s.createdAt() == null ? null : s.createdAt().toString());
    m.put("updatedAt", s.updatedAt() == null ? null : s.updatedAt().toString());
    m.put("nextAttemptAt", s.nextAttemptAt() == null ? null : s.nextAttemptAt().toString());
    m.put("lastError", s.lastError());
    return m;
  }

  /** {@code id, statusCode, headers, bodyFile, bodyLength}. */
  static Map<String, Object> response(ResponseInfo r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", r.id());
    m.put("statusCode", r.statusCode());
    m.put("headers", r.headers());
    m.put("bodyFile", r.bodyFile().toAbsolutePath().toString());
    m.put("bodyLength", r.bodyLength());
    return m;
  }

  static Map<String, Object> error(String message) {
    return Map.of("error", message);
  }

  static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON", e); // maps of strings and numbers always serialize
    }
  }
}
