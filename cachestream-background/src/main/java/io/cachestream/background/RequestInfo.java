package io.cachestream.background;

import java.nio.file.Path;

/**
 * Returned by the enqueue methods once a request is durably stored.
 *
 * @param id the request id, unique within the client's directory
 * @param dir the request's directory, {@code <dir>/requests/<id>}
 */
public record RequestInfo(String id, Path dir) {}
