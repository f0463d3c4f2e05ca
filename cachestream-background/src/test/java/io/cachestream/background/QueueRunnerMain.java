package io.cachestream.background;

import java.nio.file.Path;

/** Child-JVM half of {@link CrashRecoveryTest}: runs the queue of a directory until killed. Arg: dir. */
public final class QueueRunnerMain {
  private QueueRunnerMain() {}

  public static void main(String[] args) throws Exception {
    BackgroundHttpClient client = BackgroundHttpClient.open(Path.of(args[0]));
    System.out.println("running queue: " + client.isRunningQueue());
    Thread.sleep(Long.MAX_VALUE);
  }
}
