package io.cachestream.cli;

import java.io.PrintStream;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

/**
 * Byte progress on stderr: a live bar (bytes, rate, ETA) on a terminal, plain lines at most once a second
 * otherwise, so logs and pipes stay readable.
 */
final class ProgressReport implements AutoCloseable {
  private final String task;
  private final PrintStream out;
  private final ProgressBar bar;
  private long lastLine;
  private long current;
  private long max = -1;
  private String message = "";

  private ProgressReport(String task, PrintStream out, ProgressBar bar) {
    this.task = task;
    this.out = out;
    this.bar = bar;
  }

  static ProgressReport start(String task, PrintStream out) {
    if (System.console() == null) {
      return new ProgressReport(task, out, null);
    }
    ProgressBar bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(-1).setUnit("MiB", 1 << 20)
        .showSpeed().setConsumer(new ConsoleProgressBarConsumer(out)).build();
    return new ProgressReport(task, out, bar);
  }

  /** Reports {@code done} of {@code total} bytes ({@code total} -1 while unknown). */
  void update(long done, long total) {
    current = done;
    max = total;
    if (bar != null) {
      if (total >= 0) {
        bar.maxHint(total);
      }
      bar.stepTo(done);
      return;
    }
    long now = System.nanoTime();
    if (now - lastLine >= 1_000_000_000L) {
      lastLine = now;
      printLine();
    }
  }

  /** A short state shown beside the bytes ("running", "completed: HTTP 200"); a plain line when it changes. */
  void message(String text) {
    if (text.equals(message)) {
      return;
    }
    message = text;
    if (bar != null) {
      bar.setExtraMessage(text);
    } else {
      printLine();
    }
  }

  private void printLine() {
    out.println(task + ": " + current + (max >= 0 ? " / " + max : "") + " bytes"
        + (max > 0 ? String.format(" (%.0f%%)", 100.0 * current / max) : "") + (message.isEmpty() ? "" : " " + message));
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
    } else {
      printLine();
    }
  }
}
