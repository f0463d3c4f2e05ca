package io.cachestream.background;

import java.time.Instant;
import java.util.List;

/**
 * The content of {@code request.json}: everything needed to send the request again after a restart. The body, if any,
 * is the file {@code body} beside it; multipart files are read from their original paths at send time.
 */
record StoredRequest(
    int version,
    String id,
    String method,
    String url,
    List<NameValue> headers,
    boolean hasBody,
    String contentType,
    List<NameValue> formFields,
    List<FormFile> formFiles,
    long timeoutMillis,
    int retries,
    String idempotencyKey,
    Instant createdAt) {

  static final int VERSION = 1;

  StoredRequest {
    headers = headers == null ? List.of() : headers; // optional for other programs writing requests
  }

  boolean isMultipart() {
    return formFields != null || formFiles != null;
  }

  record NameValue(String name, String value) {}

  record FormFile(String name, String path, String fileName, String contentType) {}
}
