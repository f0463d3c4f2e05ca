package io.cachestream.background;

import io.cachestream.files.DurableFiles;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The on-disk layout under {@code <dir>/requests/}. Every method is safe to call from several threads and processes:
 * a request directory appears whole (staged under a dot name, then renamed), and each file in it is replaced
 * atomically.
 *
 * <pre>
 * requests/.lock                      held by the process running the queue
 * requests/&lt;id&gt;/request.json          method, url, headers, body type, retries… (never changes)
 * requests/&lt;id&gt;/body                  the request body, if any (never changes)
 * requests/&lt;id&gt;/status.json           the one authoritative status, replaced atomically
 * requests/&lt;id&gt;/cancel                marker: cancelled, possibly by another process
 * requests/&lt;id&gt;/response.body.part    download in progress; response.part.json says how much is good
 * requests/&lt;id&gt;/response.body         final response body  } written before the final status,
 * requests/&lt;id&gt;/response.json         final response head  } so a final status implies both
 * </pre>
 */
final class RequestStore {
  static final String REQUEST = "request.json";
  static final String BODY = "body";
  static final String STATUS = "status.json";
  static final String CANCEL = "cancel";
  static final String RESPONSE = "response.json";
  static final String RESPONSE_BODY = "response.body";
  static final String PART = "response.body.part";
  static final String PART_META = "response.part.json";
  private static final String STAGING = ".tmp-";
  private static final String TRASH = ".trash-";
  /** Staging dirs older than this belong to a writer that died; younger ones may still be filling. */
  private static final Duration STALE = Duration.ofHours(1);

  private final Path root;
  private final DurableFiles files;

  RequestStore(Path root, DurableFiles files) {
    this.root = root;
    this.files = files;
  }

  Path root() {
    return root;
  }

  DurableFiles files() {
    return files;
  }

  Path dir(String id) {
    return root.resolve(id);
  }

  /**
   * Stores a new request: body, {@code request.json} and the first {@code status.json} are written into a staging
   * directory, fsynced, and the directory is renamed into place. Returns only once the rename is durable.
   *
   * @param body the file to copy as body, or null
   * @param bodyBytes the body bytes, or null
   * @throws IllegalStateException if a request with this id exists
   */
  Path create(StoredRequest request, StatusInfo status, Path body, byte[] bodyBytes) throws IOException {
    Path target = dir(request.id());
    if (Files.exists(target)) throw duplicate(request.id());
    Path staging = root.resolve(STAGING + request.id() + "-" + UUID.randomUUID());
    Files.createDirectory(staging);
    try {
      if (bodyBytes != null) files.writeNew(staging.resolve(BODY), bodyBytes);
      if (body != null) files.copyNew(body, staging.resolve(BODY));
      files.writeNew(staging.resolve(REQUEST), Json.MAPPER.writeValueAsBytes(request));
      files.writeNew(staging.resolve(STATUS), Json.MAPPER.writeValueAsBytes(status));
      files.syncDir(staging);
      try {
        // rename(2) of a directory fails if the target exists and is not empty, which settles races on the same id.
        Files.move(staging, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        if (Files.exists(target)) throw duplicate(request.id());
        throw e;
      }
    } finally {
      if (Files.exists(staging)) DurableFiles.deleteRecursively(staging);
    }
    files.syncDir(root);
    return target;
  }

  private static IllegalStateException duplicate(String id) {
    return new IllegalStateException("a request with id '" + id + "' already exists");
  }

  StoredRequest readRequest(String id) throws IOException {
    StoredRequest r = Json.MAPPER.readValue(dir(id).resolve(REQUEST).toFile(), StoredRequest.class);
    if (r.id() == null || r.method() == null || r.url() == null || r.createdAt() == null) {
      throw new IOException("request.json lacks id, method, url or createdAt");
    }
    return r;
  }

  /** The raw {@code status.json}; throws if it is missing or unreadable. */
  StatusInfo readStatus(String id) throws IOException {
    StatusInfo s = Json.MAPPER.readValue(dir(id).resolve(STATUS).toFile(), StatusInfo.class);
    if (s.id() == null || s.status() == null || s.createdAt() == null) {
      throw new IOException("status.json lacks id, status or createdAt");
    }
    return s;
  }

  /**
   * The status as readers should see it: {@code status.json}, except that an in-progress request with a cancel marker
   * (cancelled by another process, queue not caught up yet) reads as cancelled. Empty if the request does not exist
   * or its status cannot be read.
   */
  Optional<StatusInfo> status(String id) {
    try {
      StatusInfo s = readStatus(id);
      if (!s.isFinal() && isCancelMarked(id)) {
        s = s.with(RequestStatus.CANCELLED, s.attempts(), s.updatedAt(), null, "cancelled");
      }
      return Optional.of(s);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  void writeStatus(StatusInfo status) throws IOException {
    files.write(dir(status.id()).resolve(STATUS), Json.MAPPER.writeValueAsBytes(status));
  }

  /** The saved response head, or empty if none. */
  Optional<StoredResponse> readResponse(String id) throws IOException {
    try {
      return Optional.of(Json.MAPPER.readValue(dir(id).resolve(RESPONSE).toFile(), StoredResponse.class));
    } catch (NoSuchFileException | java.io.FileNotFoundException e) {
      return Optional.empty();
    }
  }

  /**
   * Publishes a finished download: the (already fsynced) part file becomes {@code response.body}, then {@code
   * response.json} is written. The caller writes the final status afterwards, so a reader who sees a final status sees
   * a body and head from the same attempt.
   */
  void commitResponse(String id, StoredResponse response) throws IOException {
    Path dir = dir(id);
    DurableFiles.rename(dir.resolve(PART), dir.resolve(RESPONSE_BODY));
    Files.deleteIfExists(dir.resolve(PART_META));
    files.write(dir.resolve(RESPONSE), Json.MAPPER.writeValueAsBytes(response));
  }

  Optional<PartialDownload> readPartial(String id) {
    try {
      return Optional.of(Json.MAPPER.readValue(dir(id).resolve(PART_META).toFile(), PartialDownload.class));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  void writePartial(String id, PartialDownload partial) throws IOException {
    files.write(dir(id).resolve(PART_META), Json.MAPPER.writeValueAsBytes(partial));
  }

  void discardPartial(String id) throws IOException {
    Files.deleteIfExists(dir(id).resolve(PART_META));
    Files.deleteIfExists(dir(id).resolve(PART));
  }

  /** Leaves the cancel marker; returns false if the request does not exist. */
  boolean markCancelled(String id) throws IOException {
    try {
      Files.createFile(dir(id).resolve(CANCEL));
      files.syncDir(dir(id));
    } catch (FileAlreadyExistsException e) {
      return true;
    } catch (NoSuchFileException e) {
      return false;
    }
    return true;
  }

  boolean isCancelMarked(String id) {
    return Files.exists(dir(id).resolve(CANCEL));
  }

  boolean exists(String id) {
    return Files.isRegularFile(dir(id).resolve(REQUEST));
  }

  /**
   * Removes a request: renamed out of sight first (so readers never see half a directory), then deleted.
   *
   * @return false if there was no such request
   */
  boolean delete(String id) throws IOException {
    Path trash = root.resolve(TRASH + id + "-" + UUID.randomUUID());
    try {
      Files.move(dir(id), trash, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (NoSuchFileException e) {
      return false;
    }
    files.syncDir(root);
    DurableFiles.deleteRecursively(trash);
    return true;
  }

  /** Ids of all request directories (names not starting with a dot). */
  List<String> ids() throws IOException {
    List<String> ids = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(root)) {
      for (Path p : stream) {
        String name = p.getFileName().toString();
        if (RequestSpec.isValidId(name) && Files.isDirectory(p)) ids.add(name);
      }
    }
    return ids;
  }

  /** Removes staging and trash directories left by writers that died. */
  void removeLeftovers(Instant now) throws IOException {
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(root, ".{tmp,trash}-*")) {
      for (Path p : stream) {
        try {
          if (p.getFileName().toString().startsWith(TRASH)
              || Files.getLastModifiedTime(p).toInstant().isBefore(now.minus(STALE))) {
            DurableFiles.deleteRecursively(p);
          }
        } catch (NoSuchFileException e) {
          // Renamed into place or removed by its writer meanwhile.
        }
      }
    }
  }
}
