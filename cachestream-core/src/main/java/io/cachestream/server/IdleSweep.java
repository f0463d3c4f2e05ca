package io.cachestream.server;

import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Closes the client connections of one event loop that stay idle (no request received, none being answered) through
 * {@link #SWEEPS} sweeps in a row, one sweep every quarter of the idle period: between three quarters of the period
 * and all of it after their last activity. One timer per loop, in place of Netty's {@code IdleStateHandler}, which
 * schedules a timer for every connection (and cancels it at close) and puts a listener on every write: work on each
 * of the many short connections a player opens, for the rare one that goes quiet.
 *
 * <p>Confined to its event loop.
 */
final class IdleSweep {
  /** Sweeps a connection must stay quiet through to be closed. */
  static final int SWEEPS = 4;

  private final Set<ConnectionHandler> connections = new HashSet<>();

  private IdleSweep() {}

  /** A sweep of {@code loop}'s connections every quarter of {@code idle}. */
  static IdleSweep start(EventExecutor loop, Duration idle) {
    IdleSweep sweep = new IdleSweep();
    long period = Math.max(1, idle.toMillis() / SWEEPS);
    loop.scheduleAtFixedRate(sweep::sweep, period, period, TimeUnit.MILLISECONDS);
    return sweep;
  }

  void add(ConnectionHandler connection) {
    connections.add(connection);
  }

  void remove(ConnectionHandler connection) {
    connections.remove(connection);
  }

  /** The connections watched. */
  int size() {
    return connections.size();
  }

  private void sweep() {
    List<ConnectionHandler> idle = new ArrayList<>();
    for (ConnectionHandler connection : connections) {
      if (connection.quietThroughSweep()) {
        idle.add(connection);
      }
    }
    idle.forEach(ConnectionHandler::closeIdle); // closing removes it from the set: not while iterating
  }
}
