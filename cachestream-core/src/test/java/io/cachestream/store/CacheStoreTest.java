package io.cachestream.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link CacheStore}, {@link CacheEntry} and {@link EntryMeta}: on-disk format, meta checks, the directory lock. */
@Timeout(30)
class CacheStoreTest {
  private static final String KEY = "https://example.com/secret/video.mp4?token=abc";
  private static final long GIB4 = 1L << 32;

  @TempDir Path tmp;
  Path dir;
  CacheStore store;

  @BeforeEach
  void open() {
    dir = tmp.resolve("cache");
    store = CacheStore.open(dir);
  }

  @AfterEach
  void close() {
    if (store != null) {
      store.close();
    }
  }

  // ---------------------------------------------------------------- meta round trip

  @Test
  void aNewEntryCreatesItsFilesOnlyWithItsFirstWrite() throws IOException {
    try (CacheEntry entry = store.openEntry(KEY)) {
      assertThat(store.entryDir(KEY)).as("opening costs the disk nothing").doesNotExist();
      assertThatThrownBy(entry::channel).isInstanceOf(IllegalStateException.class);
      entry.truncate(null); // nothing to drop yet: still nothing on disk
      assertThat(store.entryDir(KEY)).doesNotExist();

      entry.write(ByteBuffer.wrap("abc".getBytes(UTF_8)), 10);
      assertThat(store.entryDir(KEY).resolve("data")).hasSize(13);
      ByteBuffer read = ByteBuffer.allocate(3);
      entry.channel().read(read, 10);
      assertThat(new String(read.array(), UTF_8)).isEqualTo("abc");
    }
  }

  @Test
  void aClosedNewEntryRefusesToCreateItsFiles() throws IOException {
    CacheEntry entry = store.openEntry(KEY);
    entry.close();
    assertThatThrownBy(() -> entry.write(ByteBuffer.wrap(new byte[1]), 0)).isInstanceOf(IOException.class);
    assertThat(store.entryDir(KEY)).doesNotExist();
  }

  @Test
  void checkpointedMetaIsLoadedBackFieldByField() throws IOException {
    EntryMeta meta = new EntryMeta(EntryMeta.FORMAT_VERSION, KEY, KEY, "https://cdn.example.com/v.mp4",
        GIB4 + 100, "video/mp4", "\"etag-1\"", "Wed, 21 Oct 2015 07:28:00 GMT",
        Map.of("cache-control", "max-age=60", "x-extra", "1"),
        List.of(new long[] {0, 100}, new long[] {GIB4, GIB4 + 100}), false, 1_000L, 2_000L, 3_000L, 4_000L);
    try (CacheEntry entry = store.openEntry(KEY)) {
      assertThat(entry.loadedMeta()).as("a new entry has no meta").isNull();
      entry.write(ByteBuffer.wrap(new byte[100]), 0);
      entry.write(ByteBuffer.wrap(new byte[100]), GIB4); // sparse: bytes at their own 64-bit offsets
      entry.checkpoint(meta);
    }
    try (var files = Files.list(store.entryDir(KEY))) {
      assertThat(files.map(f -> f.getFileName().toString())).as("temp file renamed away")
          .noneMatch(name -> name.startsWith("meta.json.tmp"));
    }

    try (CacheEntry entry = store.openEntry(KEY)) {
      EntryMeta loaded = entry.loadedMeta();
      assertThat(loaded).isNotNull();
      assertThat(loaded).usingRecursiveComparison().isEqualTo(meta);
      assertThat(loaded.ranges()).containsExactly(new long[] {0, 100}, new long[] {GIB4, GIB4 + 100});
      assertThat(loaded.cachedBytes()).isEqualTo(200);
      assertThat(loaded.length()).isEqualTo(GIB4 + 100);
      assertThat(loaded.expires()).isEqualTo(4_000L);
    }
    assertThat(store.readMeta(KEY)).get().usingRecursiveComparison().isEqualTo(meta);
    assertThat(store.listMetas()).singleElement().usingRecursiveComparison().isEqualTo(meta);
  }

  @Test
  void metaSurvivesClosingAndReopeningTheStore() throws IOException {
    EntryMeta meta = completeMeta(KEY, 10);
    try (CacheEntry entry = store.openEntry(KEY)) {
      entry.write(ByteBuffer.wrap("0123456789".getBytes(UTF_8)), 0);
      entry.checkpoint(meta);
    }
    store.close();
    store = CacheStore.open(dir);
    try (CacheEntry entry = store.openEntry(KEY)) {
      assertThat(entry.loadedMeta()).usingRecursiveComparison().isEqualTo(meta);
      ByteBuffer buf = ByteBuffer.allocate(10);
      entry.channel().read(buf, 0);
      assertThat(new String(buf.array(), UTF_8)).isEqualTo("0123456789");
    }
  }

  @Test
  void metaWithNullOptionalFieldsRoundTrips() throws IOException {
    EntryMeta meta = new EntryMeta(EntryMeta.FORMAT_VERSION, KEY, KEY, null, null, null, null, null, null, null,
        false, 1, 2, 3, null);
    try (CacheEntry entry = store.openEntry(KEY)) {
      entry.checkpoint(meta);
    }
    EntryMeta loaded = store.readMeta(KEY).orElseThrow();
    assertThat(loaded).usingRecursiveComparison().isEqualTo(meta);
    assertThat(loaded.headers()).isEmpty();
    assertThat(loaded.ranges()).isEmpty();
  }

  @Test
  void metaWithUnknownFieldsFromANewerWriterIsAccepted() throws IOException {
    writeValidEntry(KEY);
    ObjectNode json = (ObjectNode) CacheStore.JSON.readTree(store.entryDir(KEY).resolve("meta.json").toFile());
    json.put("someFutureField", "x");
    Files.write(store.entryDir(KEY).resolve("meta.json"), CacheStore.JSON.writeValueAsBytes(json));
    assertThat(store.readMeta(KEY)).isPresent();
  }

  // ---------------------------------------------------------------- torn or lying metas

  /** One way a meta.json can be broken; applied to a valid entry of {@link #KEY} (100 bytes of data). */
  record Corruption(String name, Corrupter corrupter) {
    @Override
    public String toString() {
      return name;
    }
  }

  interface Corrupter {
    void apply(Path entryDir) throws IOException;
  }

  static Stream<Corruption> corruptions() {
    return Stream.of(
        new Corruption("truncated JSON", d -> {
          byte[] b = Files.readAllBytes(d.resolve("meta.json"));
          Files.write(d.resolve("meta.json"), java.util.Arrays.copyOf(b, b.length / 2));
        }),
        new Corruption("random bytes", d -> {
          byte[] b = new byte[300];
          new Random(42).nextBytes(b);
          Files.write(d.resolve("meta.json"), b);
        }),
        new Corruption("empty file", d -> Files.write(d.resolve("meta.json"), new byte[0])),
        new Corruption("JSON null", d -> Files.writeString(d.resolve("meta.json"), "null")),
        new Corruption("JSON array", d -> Files.writeString(d.resolve("meta.json"), "[1,2,3]")),
        new Corruption("ranges beyond length", d -> writeMeta(d,
            meta(KEY, 50L, List.of(new long[] {0, 100}), false))),
        new Corruption("ranges beyond the data file's size", d -> writeMeta(d,
            meta(KEY, 1000L, List.of(new long[] {0, 100}, new long[] {150, 200}), false))),
        new Corruption("data file missing", d -> Files.delete(d.resolve("data"))),
        new Corruption("wrong key", d -> writeMeta(d, meta("https://other.example/x", 100L,
            List.of(new long[] {0, 100}), true))),
        new Corruption("complete with gaps", d -> writeMeta(d,
            meta(KEY, 100L, List.of(new long[] {0, 40}, new long[] {60, 100}), true))),
        new Corruption("complete with unknown length", d -> writeMeta(d,
            meta(KEY, null, List.of(new long[] {0, 100}), true))),
        new Corruption("unsupported version", d -> writeMeta(d, new EntryMeta(99, KEY, KEY, null, 100L, null, null,
            null, null, List.of(new long[] {0, 100}), true, 1, 1, 1, null))),
        new Corruption("no url", d -> writeMeta(d, new EntryMeta(EntryMeta.FORMAT_VERSION, KEY, null, null, 100L,
            null, null, null, null, List.of(new long[] {0, 100}), true, 1, 1, 1, null))),
        new Corruption("negative length", d -> writeMeta(d, meta(KEY, -1L, List.of(), false))),
        new Corruption("overlapping ranges", d -> writeMeta(d,
            meta(KEY, 100L, List.of(new long[] {0, 50}, new long[] {40, 100}), false))),
        new Corruption("unsorted ranges", d -> writeMeta(d,
            meta(KEY, 100L, List.of(new long[] {60, 100}, new long[] {0, 50}), false))),
        new Corruption("empty range", d -> writeMeta(d, meta(KEY, 100L, List.of(new long[] {10, 10}), false))),
        new Corruption("negative range start", d -> writeMeta(d, meta(KEY, 100L, List.of(new long[] {-1, 10}), false))),
        new Corruption("range with three numbers", d -> {
          ObjectNode json = (ObjectNode) CacheStore.JSON.readTree(d.resolve("meta.json").toFile());
          ((ArrayNode) json.get("ranges").get(0)).add(7);
          Files.write(d.resolve("meta.json"), CacheStore.JSON.writeValueAsBytes(json));
        }));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("corruptions")
  void brokenMetaIsDroppedWhenTheEntryIsOpened(Corruption corruption) throws IOException {
    Path entryDir = writeValidEntry(KEY);
    corruption.corrupter().apply(entryDir);

    try (CacheEntry entry = store.openEntry(KEY)) {
      assertThat(entry.loadedMeta()).isNull();
      assertThat(Files.exists(entry.metaPath())).as("broken meta deleted").isFalse();
      assertThat(entry.dataPath()).as("old data dropped with its meta").doesNotExist();
    }
    assertThat(store.readMeta(KEY)).isEmpty();
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("corruptions")
  void brokenMetaIsNotListedAndItsFilesAreDeleted(Corruption corruption) throws IOException {
    String healthyKey = "https://example.com/healthy.mp4";
    writeValidEntry(healthyKey);
    Path entryDir = writeValidEntry(KEY);
    corruption.corrupter().apply(entryDir);

    assertThat(store.listMetas()).extracting(EntryMeta::key).containsExactly(healthyKey);
    assertThat(entryDir.resolve("meta.json")).doesNotExist();
    assertThat(entryDir.resolve("data")).doesNotExist();
    assertThat(store.readMeta(healthyKey)).isPresent();
  }

  @Test
  void brokenMetaIsNotReturnedByReadMeta() throws IOException {
    Path entryDir = writeValidEntry(KEY);
    Files.writeString(entryDir.resolve("meta.json"), "{\"version\":1,\"key\":");
    assertThat(store.readMeta(KEY)).isEmpty();
    assertThat(entryDir.resolve("meta.json")).doesNotExist();
  }

  @Test
  void deleteRemovesTheEntryFiles() throws IOException {
    Path entryDir = writeValidEntry(KEY);
    store.delete(KEY);
    assertThat(entryDir).doesNotExist();
    assertThat(store.readMeta(KEY)).isEmpty();
    assertThat(store.listMetas()).isEmpty();
    store.delete(KEY); // a no-op now
  }

  // ---------------------------------------------------------------- layout

  @Test
  void entryDirectoryIsNamedBySha256OfTheKeyAndNoUrlTextReachesFileNames() throws Exception {
    writeValidEntry(KEY);
    String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(KEY.getBytes(UTF_8)));
    assertThat(store.entryDir(KEY)).isEqualTo(dir.toAbsolutePath().resolve("entries").resolve(hash.substring(0, 2))
        .resolve(hash));
    List<String> names = new ArrayList<>();
    try (Stream<Path> files = Files.walk(dir)) {
      files.forEach(p -> names.add(dir.relativize(p).toString()));
    }
    assertThat(names).contains("entries/" + hash.substring(0, 2) + "/" + hash + "/data",
        "entries/" + hash.substring(0, 2) + "/" + hash + "/meta.json", ".lock");
    assertThat(names).allSatisfy(n -> assertThat(n).doesNotContainIgnoringCase("example")
        .doesNotContainIgnoringCase("secret").doesNotContainIgnoringCase("video").doesNotContainIgnoringCase("token")
        .matches("[.a-z0-9/_-]*"));
  }

  @Test
  void keysDifferingOnlyInQueryGetDifferentEntries() {
    assertThat(store.entryDir("http://h/x?a=1")).isNotEqualTo(store.entryDir("http://h/x?a=2"));
  }

  // ---------------------------------------------------------------- directory lock and errors

  @Test
  void secondOpenInTheSameJvmFailsSayingTheDirIsInUse() {
    assertThatThrownBy(() -> CacheStore.open(dir))
        .isInstanceOf(CacheStore.CacheDirException.class)
        .hasMessageContaining("in use")
        .hasMessageContaining(dir.toAbsolutePath().toString());
    // The failed attempt must not have released the holder's lock.
    assertThatThrownBy(() -> CacheStore.open(dir)).isInstanceOf(CacheStore.CacheDirException.class);
  }

  @Test
  void dirCanBeOpenedAgainOnceClosed() {
    store.close();
    store = null;
    CacheStore again = CacheStore.open(dir);
    store = again;
    assertThat(again.dir()).isEqualTo(dir.toAbsolutePath());
  }

  @Test
  void secondOpenFromAnotherProcessFailsSayingTheDirIsInUse() throws Exception {
    Process child = startLockHolder(dir);
    try {
      String line = readFirstLine(child);
      assertThat(line).startsWith("FAILED").contains("in use").contains(dir.toAbsolutePath().toString());
      assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(child.exitValue()).isEqualTo(3);
    } finally {
      child.destroyForcibly();
    }
  }

  @Test
  void dirHeldByAnotherProcessIsReportedInUseAndFreedWhenItExits() throws Exception {
    store.close();
    store = null;
    Process child = startLockHolder(dir);
    try {
      assertThat(readFirstLine(child)).isEqualTo("LOCKED");
      assertThatThrownBy(() -> CacheStore.open(dir))
          .isInstanceOf(CacheStore.CacheDirException.class)
          .hasMessageContaining("in use");
      child.getOutputStream().close(); // lets the holder exit
      assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
      store = CacheStore.open(dir);
    } finally {
      child.destroyForcibly();
    }
  }

  @Test
  void dirUnderARegularFileCannotBeCreated() throws IOException {
    Path file = Files.writeString(tmp.resolve("plain-file"), "x");
    Path bad = file.resolve("cache");
    assertThatThrownBy(() -> CacheStore.open(bad))
        .isInstanceOf(CacheStore.CacheDirException.class)
        .hasMessageStartingWith("cannot create cache dir " + bad.toAbsolutePath());
  }

  @Test
  void unwritableLockFileIsReportedClearly() throws IOException {
    Path other = tmp.resolve("other");
    Files.createDirectories(other.resolve(".lock")); // a directory where the lock file should be
    assertThatThrownBy(() -> CacheStore.open(other))
        .isInstanceOf(CacheStore.CacheDirException.class)
        .hasMessageContaining("cache dir " + other.toAbsolutePath());
  }

  // ---------------------------------------------------------------- helpers

  private Path writeValidEntry(String key) throws IOException {
    try (CacheEntry entry = store.openEntry(key)) {
      entry.write(ByteBuffer.wrap(new byte[100]), 0);
      entry.checkpoint(completeMeta(key, 100));
      return entry.dir();
    }
  }

  private static EntryMeta completeMeta(String key, long length) {
    return meta(key, length, List.of(new long[] {0, length}), true);
  }

  private static EntryMeta meta(String key, Long length, List<long[]> ranges, boolean complete) {
    return new EntryMeta(EntryMeta.FORMAT_VERSION, key, key, null, length, "video/mp4", "\"e\"", null,
        Map.of(), ranges, complete, 1, 2, 3, null);
  }

  private static void writeMeta(Path entryDir, EntryMeta meta) throws IOException {
    Files.write(entryDir.resolve("meta.json"), CacheStore.JSON.writeValueAsBytes(meta));
  }

  private static Process startLockHolder(Path cacheDir) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new ProcessBuilder(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp",
        System.getProperty("java.class.path"), LockHolderMain.class.getName(), cacheDir.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
  }

  private static String readFirstLine(Process child) throws IOException {
    BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), UTF_8));
    return out.readLine();
  }
}
