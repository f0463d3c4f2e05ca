package io.cachestream.background;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The content of {@code response.json}; the body is {@code response.body} beside it. */
record StoredResponse(int statusCode, String message, Map<String, List<String>> headers, long bodyLength, Instant receivedAt) {}
