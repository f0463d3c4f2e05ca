package io.cachestream.background;

import java.util.Optional;

/** Completes a {@link BackgroundHttpClient#completion(String) completion future} whose request failed. */
public final class RequestFailedException extends Exception {
  private final transient StatusInfo status;
  private final transient ResponseInfo response;

  RequestFailedException(StatusInfo status, ResponseInfo response) {
    super("request " + status.id() + " failed: " + status.lastError());
    this.status = status;
    this.response = response;
  }

  /** The final status, with the reason in {@link StatusInfo#lastError()}. */
  public StatusInfo status() {
    return status;
  }

  /** The origin's last response, if it answered (for example a 503 after all retries). */
  public Optional<ResponseInfo> response() {
    return Optional.ofNullable(response);
  }
}
