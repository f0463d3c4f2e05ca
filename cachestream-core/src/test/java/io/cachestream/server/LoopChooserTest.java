package io.cachestream.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LoopChooserTest {
  private final DefaultEventLoop first = new DefaultEventLoop();
  private final DefaultEventLoop second = new DefaultEventLoop();
  private final LoopChooser factory = new LoopChooser();
  private final LoopChooser.Chooser chooser =
      (LoopChooser.Chooser) factory.newChooser(new EventExecutor[] {first, second});

  @AfterEach
  void stopLoops() {
    first.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    second.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void oneConnectionAtATimeStaysOnTheLoopThatAcceptedIt() throws Exception {
    for (int i = 0; i < 5; i++) {
      assertThat(on(second, chooser::next)).isSameAs(second);
      chooser.add(second, -1);
    }
    assertThat(chooser.loads()).containsExactly(0, 0);
  }

  @Test
  void theAcceptingLoopHandsAConnectionOverOnlyToALoopWithFewer() throws Exception {
    assertThat(on(first, chooser::next)).isSameAs(first);
    assertThat(on(first, chooser::next)).isSameAs(second);
    assertThat(on(first, chooser::next)).isSameAs(first); // a tie again: stays
    assertThat(chooser.loads()).containsExactly(2, 1);
  }

  @Test
  void aBurstOfAcceptsSpreadsEvenlyBeforeAnyConnectionRegisters() throws Exception {
    on(first, () -> {
      for (int i = 0; i < 64; i++) {
        chooser.next();
      }
      return null;
    });
    assertThat(chooser.loads()).containsExactly(32, 32);
  }

  @Test
  void aThreadOutsideTheLoopsGetsTheLeastBusyLoop() {
    assertThat(chooser.next()).isSameAs(first);
    assertThat(chooser.next()).isSameAs(second);
    chooser.add(first, -1);
    assertThat(chooser.next()).isSameAs(first);
  }

  @Test
  void aLoopStreamingADownloadHandsNewConnectionsToAnotherUntilTheDownloadEnds() throws Exception {
    factory.downloadStarted(first); // its client has gone; the download goes on

    assertThat(on(first, chooser::next)).isSameAs(second);
    chooser.add(second, -1);
    factory.downloadEnded(first);
    assertThat(on(first, chooser::next)).isSameAs(first);
    assertThat(chooser.loads()).containsExactly(1, 0);
  }

  @Test
  void aConnectionNoLongerCountsOnceClosed() {
    EmbeddedChannel channel = new EmbeddedChannel();
    LoopChooser overEmbedded = new LoopChooser();
    var embeddedChooser = (LoopChooser.Chooser) overEmbedded.newChooser(
        new EventExecutor[] {channel.eventLoop(), first});
    EventExecutor chosen = embeddedChooser.next(); // an embedded loop runs every thread's tasks: the accepting loop
    assertThat(chosen).isSameAs(channel.eventLoop());
    overEmbedded.countUntilClosed(channel);
    assertThat(embeddedChooser.loads()).containsExactly(1, 0);

    channel.close().syncUninterruptibly();

    assertThat(embeddedChooser.loads()).containsExactly(0, 0);
  }

  private static <T> T on(EventExecutor loop, Callable<T> task) throws Exception {
    return loop.submit(task).get(5, TimeUnit.SECONDS);
  }
}
