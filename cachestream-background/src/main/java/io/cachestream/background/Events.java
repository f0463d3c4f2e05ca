package io.cachestream.background;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Fans events out to listeners, shielding the queue from listener exceptions. */
final class Events {
  private static final Logger log = LoggerFactory.getLogger(Events.class);

  private final List<BackgroundListener> listeners = new CopyOnWriteArrayList<>();
  private final Consumer<StatusInfo> onFinal;

  Events(List<BackgroundListener> initial, Consumer<StatusInfo> onFinal) {
    listeners.addAll(initial);
    this.onFinal = onFinal;
  }

  void add(BackgroundListener listener) {
    listeners.add(listener);
  }

  void remove(BackgroundListener listener) {
    listeners.remove(listener);
  }

  void status(StatusInfo status) {
    for (BackgroundListener l : listeners) {
      try {
        l.onStatus(status);
      } catch (RuntimeException e) {
        log.warn("listener failed on status of {}", status.id(), e);
      }
    }
    if (status.isFinal()) onFinal.accept(status);
  }

  void progress(Progress progress) {
    for (BackgroundListener l : listeners) {
      try {
        l.onProgress(progress);
      } catch (RuntimeException e) {
        log.warn("listener failed on progress of {}", progress.id(), e);
      }
    }
  }
}
