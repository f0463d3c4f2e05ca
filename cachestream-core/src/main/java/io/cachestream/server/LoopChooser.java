package io.cachestream.server;

import io.cachestream.engine.LoopLoad;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorChooserFactory;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Picks the event loop of each accepted connection: the one with the least load (open connections, plus downloads
 * streaming on it), and on a tie the loop that accepted it. Netty's default hands connections round robin, so every
 * other connection of a client that opens one at a time (a player seeking, curl in a loop) wakes the second loop's
 * thread to run it; on a small machine that wake-up shows in the first byte (measured: a warm range on a new
 * connection, 0.66 against 0.71 ms). Under load the loops still share the connections evenly.
 *
 * <p>A connection counts from the moment it is given a loop (so that a burst of accepts, whose connections register
 * later, still spreads) until it closes ({@link #countUntilClosed}). A download counts while it streams from the
 * origin into the cache on a loop ({@link LoopLoad}), whether or not its client is still there: a whole-file download
 * goes on after the player that started it has left, and each of its reads ends in a file write on that loop, so a
 * new client there would wait behind them (measured: far seeks during such a download took 12-25 ms; 1.6-5.3 ms
 * once downloads counted here and origin connections read once per turn of the loop).
 */
final class LoopChooser implements EventExecutorChooserFactory, LoopLoad {
  private volatile Chooser chooser;

  @Override
  public EventExecutorChooser newChooser(EventExecutor[] executors) {
    Chooser c = new Chooser(executors.clone());
    chooser = c;
    return c;
  }

  /** Counts {@code channel}, which was given a loop by this chooser, as one connection fewer once it closes. */
  void countUntilClosed(Channel channel) {
    Chooser c = chooser;
    channel.closeFuture().addListener(f -> c.add(channel.eventLoop(), -1));
  }

  @Override
  public void downloadStarted(EventLoop loop) {
    chooser.add(loop, 1);
  }

  @Override
  public void downloadEnded(EventLoop loop) {
    chooser.add(loop, -1);
  }

  static final class Chooser implements EventExecutorChooser {
    private final EventExecutor[] loops;
    /** Per loop: open connections plus downloads streaming there. */
    private final AtomicIntegerArray load;

    Chooser(EventExecutor[] loops) {
      this.loops = loops;
      this.load = new AtomicIntegerArray(loops.length);
    }

    @Override
    public EventExecutor next() {
      int best = -1;
      int fewest = Integer.MAX_VALUE;
      for (int i = 0; i < loops.length; i++) {
        if (loops[i].inEventLoop()) {
          best = i;
          fewest = load.get(i);
        }
      }
      for (int i = 0; i < loops.length; i++) {
        int n = load.get(i);
        if (n < fewest) {
          best = i;
          fewest = n;
        }
      }
      load.incrementAndGet(best);
      return loops[best];
    }

    /** Adds {@code delta} to the load of {@code loop}. */
    void add(EventExecutor loop, int delta) {
      for (int i = 0; i < loops.length; i++) {
        if (loops[i] == loop) {
          load.addAndGet(i, delta);
          return;
        }
      }
    }

    /** The load of each loop, in the order of the loops. */
    int[] loads() {
      int[] n = new int[loops.length];
      for (int i = 0; i < n.length; i++) {
        n[i] = load.get(i);
      }
      return n;
    }
  }
}
