package io.cachestream.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code cachestream} command. */
@Command(
    name = "cachestream",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Play remote media while it downloads, from a local range cache.",
    subcommands = {ServeCommand.class, CacheCommands.Precache.class, CacheCommands.Ls.class, CacheCommands.Rm.class,
        RequestCommand.class})
public final class Main {
  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code (for tests and {@link #main}). */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new Main());
    // `--data @file` is ours to read: picocli must not expand it as an argument file.
    cli.setExpandAtFiles(false);
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      commandLine.getErr().println("cachestream: " + oneLine(e));
      return e instanceof IllegalArgumentException ? 2 : 1;
    });
    // Scripts get one line for a usage error too; --help shows the rest.
    cli.setParameterExceptionHandler((e, args2) -> {
      e.getCommandLine().getErr().println("cachestream: " + oneLine(e)
          + " (see 'cachestream " + e.getCommandLine().getCommandName() + " --help')");
      return 2;
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
