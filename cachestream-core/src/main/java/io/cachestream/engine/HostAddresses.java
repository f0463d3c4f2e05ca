package io.cachestream.engine;

import io.netty.channel.EventLoop;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import okhttp3.Dns;

/**
 * The addresses of origin host names, for requests issued from event loops. A lookup can block (DNS), so it runs on a
 * download thread, with the same resolver the blocking client uses; its answer is remembered for
 * {@link #REMEMBER_SECONDS}, as the JDK's own cache does by default, so that most requests need no lookup and no
 * thread hand-off. IP literals need neither.
 */
final class HostAddresses {
  static final long REMEMBER_SECONDS = 30;
  /** Host names remembered at most; beyond, the memory starts over. */
  private static final int MAX_HOSTS = 1024;

  private record Remembered(List<InetAddress> addresses, long expiresNanos) {}

  private final Dns dns;
  private final Executor lookupThreads;
  private final Map<String, Remembered> remembered = new ConcurrentHashMap<>();

  HostAddresses(Dns dns, Executor lookupThreads) {
    this.dns = dns;
    this.lookupThreads = lookupThreads;
  }

  /** The addresses of {@code host} (a name or an IP literal, brackets and all) if known now, else null. */
  List<InetAddress> known(String host) throws IOException {
    if (Engine.isIpLiteral(host)) {
      return List.of(InetAddress.getByName(unbracketed(host)));
    }
    Remembered r = remembered.get(host);
    return r != null && r.expiresNanos() - System.nanoTime() > 0 ? r.addresses() : null;
  }

  /** {@code host} without the brackets of an IPv6 literal in a URL. */
  static String unbracketed(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  /**
   * Looks {@code host} up on a download thread, then calls {@code then} on {@code loop} with the answer or why not
   * (on the download thread, with a failure, if the loop has stopped).
   */
  void lookUp(String host, EventLoop loop, BiConsumer<List<InetAddress>, IOException> then) {
    lookupThreads.execute(() -> {
      List<InetAddress> addresses = null;
      IOException failure = null;
      try {
        addresses = dns.lookup(host);
        if (addresses.isEmpty()) {
          throw new UnknownHostException(host + ": no addresses");
        }
        if (remembered.size() >= MAX_HOSTS) {
          remembered.clear();
        }
        remembered.put(host, new Remembered(List.copyOf(addresses),
            System.nanoTime() + TimeUnit.SECONDS.toNanos(REMEMBER_SECONDS)));
      } catch (IOException e) {
        failure = e;
      }
      List<InetAddress> found = addresses;
      IOException failed = failure;
      try {
        loop.execute(() -> then.accept(found, failed));
      } catch (RejectedExecutionException loopStopped) {
        then.accept(null, new IOException("the server is stopping"));
      }
    });
  }
}
