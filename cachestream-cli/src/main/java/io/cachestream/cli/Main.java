package io.cachestream.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code cachestream} command. */
@Command(
    name = "cachestream",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Play remote media while it downloads, from a local range cache.",
    subcommands = {ServeCommand.class, CacheCommands.Precache.class, CacheCommands.Ls.class, CacheCommands.Rm.class})
public final class Main {
  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code (for tests and {@link #main}). */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      commandLine.getErr().println("cachestream: " + oneLine(e));
      return 1;
    });
    return cli.execute(args);
  }

  static String oneLine(Throwable e) {
    String message = e.getMessage() == null ? e.toString() : e.getMessage();
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"cachestream " + (v == null ? "dev" : v)};
    }
  }
}
